# Prints the items of a block list `KEY:` (one per line, YAML quotes
# removed) inside the block that starts with the line START; the files are
# cotenant's own output, so the layout is known. -v start=... -v key=...
function unquote(s) {
  if (s ~ /^".*"$/) { s = substr(s, 2, length(s) - 2); gsub(/\\"/, "\"", s); gsub(/\\\\/, "\\", s) }
  else if (s ~ /^'.*'$/) { s = substr(s, 2, length(s) - 2); gsub(/''/, "'", s) }
  return s
}
$0 == start { inblock = 1; next }
inblock && $0 ~ ("^" key ":$") { inlist = 1; indent = match($0, /[^ ]/) - 1; next }
inlist {
  pre = substr($0, 1, indent)
  if (pre ~ /^ *$/ && substr($0, indent + 1, 2) == "- ") { print unquote(substr($0, indent + 3)); next }
  exit
}
