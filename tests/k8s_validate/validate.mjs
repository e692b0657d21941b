// Validates every Kubernetes object in the YAML files given against the
// Kubernetes OpenAPI schema (as compiled by kubernetes-models), offline.
// Exit 0: all valid; 1: an object is invalid (each error printed with its
// file, document and path); 2: a file cannot be read or parsed.
//   node validate.mjs FILE.yaml...
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Job } from "kubernetes-models/batch/v1/Job";

const models = { "v1/ConfigMap": ConfigMap, "batch/v1/Job": Job };
let bad = 0, checked = 0;
for (const file of process.argv.slice(2)) {
  let docs;
  try {
    docs = parseAllDocuments(readFileSync(file, "utf8"));
  } catch (e) {
    console.error(`${file}: ${e.message}`);
    process.exit(2);
  }
  docs.forEach((doc, i) => {
    if (doc.errors.length) {
      console.error(`${file}: document ${i + 1}: ${doc.errors[0].message}`);
      process.exit(2);
    }
    const obj = doc.toJS();
    const Model = models[`${obj.apiVersion}/${obj.kind}`];
    if (!Model) {
      console.error(`${file}: document ${i + 1}: no schema here for ${obj.apiVersion} ${obj.kind}`);
      bad++;
      return;
    }
    try {
      new Model(obj).validate();
      checked++;
    } catch (e) {
      console.error(`${file}: document ${i + 1} (${obj.kind} ${obj.metadata?.name}): ${e.message}`);
      bad++;
    }
  });
}
console.log(`${checked} object(s) valid, ${bad} invalid`);
process.exit(bad ? 1 : 0);
