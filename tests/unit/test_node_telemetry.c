/* Telemetry from where the workloads run: a process's workload read from
 * its environment (env_owner), and a sampler's stream followed into a
 * segment's telemetry.csv (node_telemetry): which lines are rows, what goes
 * to the log, and one GPU kept of several. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "exec/node_telemetry.h"
#include "telemetry/env_owner.h"
#include "util/fs.h"

static void test_environ_value(void **state)
{
    (void)state;
    static const char block[] = "A=1\0COTENANT_WORKLOAD=train\0COTENANT_WORKLOAD_X=no\0EMPTY=\0CUT=abc";
    size_t len = sizeof block - 1;
    char out[8];
    assert_int_equal(environ_value(block, len, "COTENANT_WORKLOAD", out, sizeof out), 0);
    assert_string_equal(out, "train");
    assert_int_equal(environ_value(block, len, "EMPTY", out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_int_equal(environ_value(block, len, "A", out, sizeof out), 0);
    assert_string_equal(out, "1");
    assert_int_equal(environ_value(block, len, "COTENANT", out, sizeof out), -1);   /* a prefix is not a key */
    assert_int_equal(environ_value(block, len, "CUT", out, sizeof out), -1);        /* cut at the read limit */
    assert_int_equal(environ_value(block, len, "COTENANT_WORKLOAD_X", out, 2), -1); /* longer than out */
    assert_int_equal(environ_value("", 0, "A", out, sizeof out), -1);
}

/* A child that sleeps with the given environment. */
static pid_t sleeper(char *const *envp)
{
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {"sleep", "30", NULL};
        execve("/bin/sleep", argv, envp);
        _exit(127);
    }
    return pid;
}

static void test_env_owner(void **state)
{
    (void)state;
    char *ours[] = {"COTENANT_SEGMENT=run-1/003-r1-mps-shared", "COTENANT_WORKLOAD=train", NULL};
    char *other_segment[] = {"COTENANT_SEGMENT=run-1/002-r1-mps-alone", "COTENANT_WORKLOAD=train", NULL};
    char *no_tag[] = {"COTENANT_WORKLOAD=train", NULL};
    pid_t a = sleeper(ours), b = sleeper(other_segment), c = sleeper(no_tag);
    usleep(200 * 1000); /* until each has exec'd */
    env_owner o;
    env_owner_init(&o, "run-1/003-r1-mps-shared");
    assert_string_equal(env_owner_of(&o, (unsigned)a), "train");
    assert_string_equal(env_owner_of(&o, (unsigned)b), "");
    assert_string_equal(env_owner_of(&o, (unsigned)c), "");
    assert_string_equal(env_owner_of(&o, 0x7ffffff0u), ""); /* no such process */
    assert_int_equal(o.n, 4);
    assert_string_equal(env_owner_of(&o, (unsigned)a), "train"); /* kept */
    assert_int_equal(o.n, 4);
    /* a full cache reuses its oldest entries */
    for (unsigned k = 0; k < ENV_OWNER_CACHE + 3; k++) env_owner_of(&o, 0x7f000000u + k);
    assert_int_equal(o.n, ENV_OWNER_CACHE);
    pid_t kids[] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        kill(kids[i], SIGKILL);
        waitpid(kids[i], NULL, 0);
    }
}

/* Any wall-clock stamp: the classifier checks its characters, not its value. */
#define TS "2026-12-07T20:00:00.125Z"

static nt_line classify(const char *s, bool header)
{
    return node_telemetry_classify(s, strlen(s), header);
}

static void test_classify(void **state)
{
    (void)state;
    assert_int_equal(classify("t_ns,timestamp,gpu,record,pid", false).kind, NT_HEADER);
    assert_int_equal(classify("t_ns,timestamp,gpu,record,pid", true).kind, NT_OTHER); /* a second header */
    assert_int_equal(classify("100," TS ",0,gpu,,,,50", false).kind, NT_OTHER);   /* no header yet */
    nt_line r = classify("100," TS ",1,gpu,,,,50", true);
    assert_int_equal(r.kind, NT_ROW);
    assert_int_equal(r.gpu, 1);
    assert_true(r.gpu_row);
    r = classify("100," TS ",2,process,7,\"a,b\",,,,,,,,,,,,,,,,,,1.0,,,train", true);
    assert_int_equal(r.kind, NT_ROW);
    assert_true(r.labelled);
    assert_false(r.gpu_row);
    r = classify("100," TS ",2,process,7,\"a,b\",,,,,,,,,,,,,,,,,,1.0,,,", true);
    assert_false(r.labelled);
    assert_int_equal(classify("100," TS ",0,mig,,,1,,", true).kind, NT_ROW);
    const char *bad[] = {"cotenant monitor: no GPU", "", "100", "100,", "100," TS ",x,gpu,", "100," TS ",0,bogus,",
                         "100," TS ",64,gpu,,", "123456789012345678901," TS ",0,gpu,", "," TS ",0,gpu,",
                         "100," TS ",0,gpu", "100,,0,gpu,", "100,2026 12 07,0,gpu,", "100,0,gpu,"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) assert_int_equal(classify(bad[i], true).kind, NT_OTHER);
}

static char *slurp(const char *path)
{
    char *text = NULL;
    size_t len;
    assert_int_equal(fs_read_file_limited(path, 1 << 20, &text, &len, NULL), 0);
    return text;
}

/* A stream from "the node": chatter, the header, two GPUs of which the
 * workloads' processes are on GPU 1, a line cut off at the end. */
static void test_follow(void **state)
{
    (void)state;
    char dir[] = "/tmp/cotenant-nt-XXXXXX", stream[300];
    assert_non_null(mkdtemp(dir));
    snprintf(stream, sizeof stream, "%s/stream", dir);
    FILE *f = fopen(stream, "w");
    fputs("Defaulted container \"sampler\"\n"
          "t_ns,timestamp,gpu,record,pid,process,workload\n"
          "100," TS ",0,gpu,,,\n"
          "100," TS ",1,gpu,,,\n"
          "100," TS ",1,process,42,python3,train\n"
          "cotenant monitor: warning: something\n"
          "200," TS ",0,gpu,,,\n"
          "200," TS ",0,process,43,other,\n"
          "200," TS ",1,gpu,,,\n"
          "200," TS ",1,process,42,python3,train\n"
          "300," TS ",1,gp",
          f);
    fclose(f);
    char *argv[] = {"cat", stream, NULL};
    cot_err err;
    node_telemetry *t = node_telemetry_start(argv, dir, &err);
    assert_non_null(t);
    json_t *info = node_telemetry_stop(t);
    assert_int_equal(json_integer_value(json_object_get(info, "gpu")), 1);
    assert_int_equal(json_integer_value(json_object_get(info, "gpus_sampled")), 2);
    assert_string_equal(json_string_value(json_object_get(info, "gpu_chosen_by")), NODE_TELEMETRY_BY_LABEL);
    assert_int_equal(json_integer_value(json_object_get(info, "samples")), 2);
    assert_int_equal(json_integer_value(json_object_get(info, "other_lines")), 3);
    assert_string_equal(json_string_value(json_object_get(info, "follower")), "exit code 0");
    assert_null(json_object_get(info, "write_error"));
    json_decref(info);
    char path[400];
    snprintf(path, sizeof path, "%s/" NODE_TELEMETRY_CSV, dir);
    char *csv = slurp(path);
    assert_string_equal(csv, "t_ns,timestamp,gpu,record,pid,process,workload\n"
                             "100," TS ",1,gpu,,,\n"
                             "100," TS ",1,process,42,python3,train\n"
                             "200," TS ",1,gpu,,,\n"
                             "200," TS ",1,process,42,python3,train\n");
    free(csv);
    snprintf(path, sizeof path, "%s/" NODE_TELEMETRY_LOG, dir);
    char *log = slurp(path);
    assert_string_equal(log, "Defaulted container \"sampler\"\ncotenant monitor: warning: something\n300," TS ",1,gp\n");
    free(log);
    fs_remove_tree(dir);
}

/* The GPU kept for a stream, and the rule that chose it. */
static json_t *follow_text(const char *text)
{
    char dir[] = "/tmp/cotenant-nt-XXXXXX", stream[300];
    assert_non_null(mkdtemp(dir));
    snprintf(stream, sizeof stream, "%s/stream", dir);
    FILE *f = fopen(stream, "w");
    fputs(text, f);
    fclose(f);
    char *argv[] = {"cat", stream, NULL};
    cot_err err;
    node_telemetry *t = node_telemetry_start(argv, dir, &err);
    assert_non_null(t);
    json_t *info = node_telemetry_stop(t);
    fs_remove_tree(dir);
    return info;
}

static void expect_choice(const char *text, int gpu, const char *by)
{
    json_t *info = follow_text(text);
    assert_int_equal(json_integer_value(json_object_get(info, "gpu")), gpu);
    const char *got = json_string_value(json_object_get(info, "gpu_chosen_by"));
    if (by) {
        assert_non_null(got);
        assert_string_equal(got, by);
    } else {
        assert_null(got);
    }
    json_decref(info);
}

/* Where no process is labelled as the segment's (their environments could
 * not be read), the GPU with processes beats an idle one, which beats one
 * sampled less; a full tie goes to the lower index. */
static void test_choice_without_labels(void **state)
{
    (void)state;
    const char *head = "t_ns,timestamp,gpu,record,pid,process,workload\n";
    char text[1024];
    /* a labelled process outweighs more unlabelled ones elsewhere */
    snprintf(text, sizeof text, "%s%s", head,
             "1," TS ",0,gpu,,,\n1," TS ",0,process,5,x,\n1," TS ",0,process,6,y,\n1," TS ",1,gpu,,,\n1," TS ",1,process,7,z,train\n");
    expect_choice(text, 1, NODE_TELEMETRY_BY_LABEL);
    snprintf(text, sizeof text, "%s%s", head, "1," TS ",0,gpu,,,\n1," TS ",1,gpu,,,\n1," TS ",1,process,7,z,\n2," TS ",0,gpu,,,\n");
    expect_choice(text, 1, "the most GPU processes");
    snprintf(text, sizeof text, "%s%s", head, "1," TS ",0,gpu,,,\n1," TS ",1,gpu,,,\n2," TS ",1,gpu,,,\n");
    expect_choice(text, 1, "the most samples (no GPU processes seen)");
    snprintf(text, sizeof text, "%s%s", head, "1," TS ",0,gpu,,,\n1," TS ",1,gpu,,,\n2," TS ",0,gpu,,,\n2," TS ",1,gpu,,,\n");
    expect_choice(text, 0, "the most samples (no GPU processes seen)");
    /* one GPU: nothing to choose, nothing said */
    snprintf(text, sizeof text, "%s%s", head, "1," TS ",3,gpu,,,\n");
    expect_choice(text, 3, NULL);
}

/* A follower that cannot start: no telemetry, and why. */
static void test_follower_missing(void **state)
{
    (void)state;
    char dir[] = "/tmp/cotenant-nt-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *argv[] = {"/nonexistent/kubectl", NULL};
    cot_err err;
    assert_null(node_telemetry_start(argv, dir, &err));
    assert_non_null(strstr(err.msg, "/nonexistent/kubectl"));
    fs_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_environ_value), cmocka_unit_test(test_env_owner), cmocka_unit_test(test_classify),
        cmocka_unit_test(test_follow),        cmocka_unit_test(test_choice_without_labels),
        cmocka_unit_test(test_follower_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
