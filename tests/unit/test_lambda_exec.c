/*
 * test_lambda_exec — functions run as real processes on a uv loop, in-process.
 *
 * Each test writes a function's code into a fresh temporary directory, creates an executor on
 * its own loop and invokes: shell bootstraps (AWS's bash + curl tutorial verbatim among them),
 * the python and node runtimes from runtimes/, and the C example (build/lambda-echo). Results,
 * log tails and the lines a recording sink received are checked; every test ends with a shutdown
 * and a loop that closes with no handle left. Run from the repository's root (make unit does).
 */
#include "base/buf.h"
#include "iam/identity.h"
#include "iam/session.h"
#include "lambda/exec.h"
#include "lambda/rtapi.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#define ACCOUNT "000000000000"
#define ROLE    "arn:aws:iam::000000000000:role/fn-role"

typedef struct result {
    bool done;
    char *function_error;
    char *payload;
    char *tail;
    char *version;
} result_t;

typedef struct fixture {
    uv_loop_t loop;
    lambda_exec_t *x;
    iam_identity_t *ids;
    char dir[64];
    buf_t sink; /* "group|stream|line\n" per line the sink received */
    lambda_fn_spec_t fn;
    bool closed;
} fixture_t;

static uint8_t token_key[IAM_SESSION_KEY_BYTES] = {1, 2, 3};

static void recorder(logs_sink_t *s, const char *account, const char *region, const char *role_arn,
                     const char *group, const char *stream, int64_t time_ms, const char *line,
                     size_t len)
{
    fixture_t *f = (fixture_t *)s;
    (void)account, (void)region, (void)time_ms;
    assert_string_equal(role_arn, ROLE);
    buf_printf(&f->sink, "%s|%s|%.*s\n", group, stream, (int)len, line);
}

static void write_file(fixture_t *f, const char *name, int mode, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", f->dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    chmod(path, (mode_t)mode);
}

static fixture_t *fixture_new(const char *runtime, const char *handler, int max_concurrency)
{
    fixture_t *f = calloc(1, sizeof(*f));
    uv_loop_init(&f->loop);
    snprintf(f->dir, sizeof(f->dir), "/tmp/nagare-exec-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    buf_init(&f->sink, 0);
    f->ids = iam_identity_new();
    iam_identity_set_token_key(f->ids, token_key);
    lambda_exec_config_t cfg = {.endpoint_url = "http://127.0.0.1:4566",
                                .ids = f->ids,
                                .runtimes_dir = "runtimes",
                                .max_concurrency = max_concurrency,
                                .idle_ms = 1000,
                                .sink = (logs_sink_t *)f,
                                .sink_append = recorder};
    f->x = lambda_exec_new(&f->loop, &cfg);
    f->fn = (lambda_fn_spec_t){.account = ACCOUNT,
                               .region = "us-east-1",
                               .name = "fn",
                               .version = "$LATEST",
                               .arn = "arn:aws:lambda:us-east-1:000000000000:function:fn",
                               .runtime = runtime,
                               .handler = handler,
                               .code_dir = f->dir,
                               .code_id = 1,
                               .timeout_s = 10,
                               .memory_mb = 256,
                               .role_arn = ROLE,
                               .reserved = -1};
    return f;
}

static void on_shut(void *ud)
{
    ((fixture_t *)ud)->closed = true;
}

static void fixture_free(fixture_t *f)
{
    lambda_exec_shutdown(f->x, on_shut, f);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_true(f->closed);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    iam_identity_free(f->ids);
    buf_free(&f->sink);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
}

static void on_result(void *ud, const lambda_result_t *r)
{
    result_t *res = ud;
    assert_false(res->done);
    assert_int_equal(r->status, 200);
    res->done = true;
    res->function_error = r->function_error ? strdup(r->function_error) : NULL;
    res->payload = strndup(r->payload, r->payload_len);
    res->tail = r->log_tail ? strdup(r->log_tail) : NULL;
    res->version = strdup(r->executed_version);
}

static void result_clear(result_t *r)
{
    free(r->function_error);
    free(r->payload);
    free(r->tail);
    free(r->version);
    memset(r, 0, sizeof(*r));
}

static void wait_for(fixture_t *f, result_t *r)
{
    while (!r->done)
        uv_run(&f->loop, UV_RUN_ONCE);
}

/* Invokes synchronously; the result is the caller's to clear. */
static result_t invoke(fixture_t *f, const char *payload)
{
    result_t r = {0};
    aws_error_t err;
    lambda_invoke_opts_t tail = {.want_log_tail = true};
    aws_error_clear(&err);
    assert_int_equal(
        lambda_exec_invoke(f->x, &f->fn, payload, strlen(payload), &tail, on_result, &r, &err), 0);
    wait_for(f, &r);
    return r;
}

static void stop_loop(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* Runs the loop for ms milliseconds. */
static void run_ms(fixture_t *f, uint64_t ms)
{
    uv_timer_t t;
    uv_timer_init(&f->loop, &t);
    uv_timer_start(&t, stop_loop, ms, 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
}

/* ---- provided: shell bootstraps ------------------------------------------------------------ */

/* https://docs.aws.amazon.com/lambda/latest/dg/runtimes-walkthrough.html, unchanged. */
static const char tutorial_bootstrap[] =
    "#!/bin/sh\n"
    "\n"
    "set -euo pipefail\n"
    "\n"
    "# Initialization - load function handler\n"
    "source $LAMBDA_TASK_ROOT/\"$(echo $_HANDLER | cut -d. -f1).sh\"\n"
    "\n"
    "# Processing\n"
    "while true\n"
    "do\n"
    "  HEADERS=\"$(mktemp)\"\n"
    "  # Get an event. The HTTP request will block until one is received\n"
    "  EVENT_DATA=$(curl -sS -LD \"$HEADERS\" "
    "\"http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next\")\n"
    "\n"
    "  # Extract request ID by scraping response headers received above\n"
    "  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id \"$HEADERS\" | tr -d '[:space:]' | cut "
    "-d: -f2)\n"
    "\n"
    "  # Run the handler function from the script\n"
    "  RESPONSE=$($(echo \"$_HANDLER\" | cut -d. -f2) \"$EVENT_DATA\")\n"
    "\n"
    "  # Send the response\n"
    "  curl "
    "\"http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/response\"  "
    "-d \"$RESPONSE\"\n"
    "done\n";

static const char tutorial_function[] = "function handler () {\n"
                                        "  EVENT_DATA=$1\n"
                                        "  echo \"$EVENT_DATA\" 1>&2;\n"
                                        "  RESPONSE=\"Echoing request: '$EVENT_DATA'\"\n"
                                        "\n"
                                        "  echo $RESPONSE\n"
                                        "}\n";

static void test_tutorial_bootstrap(void **state)
{
    (void)state;
    fixture_t *f = fixture_new("provided.al2023", "function.handler", 0);
    write_file(f, "bootstrap", 0755, tutorial_bootstrap);
    write_file(f, "function.sh", 0644, tutorial_function);
    result_t r = invoke(f, "{\"key1\":\"value1\"}");
    assert_null(r.function_error);
    assert_string_equal(r.payload, "Echoing request: '{\"key1\":\"value1\"}'");
    assert_string_equal(r.version, "$LATEST");
    assert_non_null(strstr(r.tail, "START RequestId: "));
    assert_non_null(strstr(r.tail, "{\"key1\":\"value1\"}\n")); /* the handler's stderr */
    assert_non_null(strstr(r.tail, "END RequestId: "));
    assert_non_null(strstr(r.tail, "\tMemory Size: 256 MB\tMax Memory Used: "));
    assert_non_null(strstr(r.tail, "\tInit Duration: "));
    result_clear(&r);
    /* warm: the same instance, no init this time */
    r = invoke(f, "2");
    assert_string_equal(r.payload, "Echoing request: '2'");
    assert_null(strstr(r.tail, "Init Duration"));
    assert_int_equal(lambda_exec_instances(f->x, ACCOUNT, "us-east-1", "fn"), 1);
    result_clear(&r);
    /* the sink got every line in the function's group and one stream */
    assert_non_null(strstr(f->sink.data, "/aws/lambda/fn|"));
    assert_non_null(strstr(f->sink.data, "/[$LATEST]"));
    assert_non_null(strstr(f->sink.data, "|REPORT RequestId: "));
    fixture_free(f);
}

static void test_env_and_credentials(void **state)
{
    (void)state;
    fixture_t *f = fixture_new("provided.al2", "x", 0);
    const char *keys[] = {"GREETING"}, *values[] = {"hello"};
    f->fn.env_keys = keys;
    f->fn.env_values = values;
    f->fn.n_env = 1;
    write_file(f, "bootstrap", 0755,
               "#!/bin/bash\n"
               "H=$(mktemp)\n"
               "curl -sS -D $H http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next\n"
               "ID=$(grep -i request-id $H | tr -d '[:space:]' | cut -d: -f2)\n"
               "env | sort > $LAMBDA_TASK_ROOT/env.txt\n"
               "grep -i -e deadline -e function-arn -e trace-id $H >> $LAMBDA_TASK_ROOT/env.txt\n"
               "curl -sS http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/$ID/response "
               "-d ok\n"
               "sleep 5\n");
    result_t r = invoke(f, "{}");
    assert_string_equal(r.payload, "ok");
    result_clear(&r);
    char path[128], env[16384];
    snprintf(path, sizeof(path), "%s/env.txt", f->dir);
    FILE *fp = fopen(path, "r");
    size_t n = fread(env, 1, sizeof(env) - 1, fp);
    fclose(fp);
    env[n] = 0;
    static const char *const want[] = {
        "GREETING=hello\n",
        "AWS_LAMBDA_FUNCTION_NAME=fn\n",
        "AWS_LAMBDA_FUNCTION_VERSION=$LATEST\n",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256\n",
        "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/fn\n",
        "AWS_LAMBDA_LOG_STREAM_NAME=",
        "AWS_LAMBDA_RUNTIME_API=127.0.0.1:",
        "AWS_REGION=us-east-1\n",
        "AWS_DEFAULT_REGION=us-east-1\n",
        "AWS_ENDPOINT_URL=http://127.0.0.1:4566\n",
        "_HANDLER=x\n",
        "LAMBDA_TASK_ROOT=/tmp/nagare-exec-",
        "TZ=:UTC\n",
        "PATH=",
        "AWS_ACCESS_KEY_ID=ASIA",
        "AWS_SESSION_TOKEN=",
        "Lambda-Runtime-Deadline-Ms: ",
        "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:000000000000:function:fn",
        "Lambda-Runtime-Trace-Id: Root=1-",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!strstr(env, want[i]))
            fail_msg("missing %s in\n%s", want[i], env);
    assert_null(strstr(env, "AWS_EXECUTION_ENV"));       /* only managed runtimes have one */
    assert_null(strstr(env, "PYTHONDONTWRITEBYTECODE")); /* only hot-reload directories */
    /* the credentials are a session of the role that nagare accepts */
    char key[32], secret[64], token[4096];
    assert_int_equal(sscanf(strstr(env, "AWS_ACCESS_KEY_ID="), "AWS_ACCESS_KEY_ID=%31s", key), 1);
    assert_int_equal(
        sscanf(strstr(env, "AWS_SECRET_ACCESS_KEY="), "AWS_SECRET_ACCESS_KEY=%63s", secret), 1);
    assert_int_equal(sscanf(strstr(env, "AWS_SESSION_TOKEN="), "AWS_SESSION_TOKEN=%4095s", token),
                     1);
    iam_session_t s;
    char got[41];
    assert_int_equal(iam_session_open(token_key, key, token, &s, got), 0);
    assert_string_equal(got, secret);
    assert_string_equal(s.role_arn, ROLE);
    assert_string_equal(s.name, "fn");
    assert_true(s.expires_ms - s.issued_ms == 12LL * 3600 * 1000);
    iam_session_clear(&s);
    fixture_free(f);
}

/* The Runtime API's status codes, as a shell bootstrap sees them with curl. */
static void test_runtime_api_codes(void **state)
{
    (void)state;
    fixture_t *f = fixture_new("provided.al2023", "x", 0);
    write_file(f, "bootstrap", 0755,
               "#!/bin/bash\n"
               "A=http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime\n"
               "c() { curl -s -o /dev/null -w '%{http_code}' \"$@\"; }\n"
               "H=$(mktemp)\n"
               "curl -sS -D $H $A/invocation/next >/dev/null\n"
               "ID=$(grep -i request-id $H | tr -d '[:space:]' | cut -d: -f2)\n"
               "R=\"$(c -X POST $A/invocation/bogus/response -d x) $(c $A/nope) $(c "
               "$A/invocation/$ID/response)\"\n"
               "R=\"$R $(c -X POST $A/init/error -d '{}')\"\n"
               "c -X POST $A/invocation/$ID/response -d \"$R\"\n"
               "c -X POST $A/invocation/$ID/response -d again > $LAMBDA_TASK_ROOT/late.txt\n"
               "sleep 5\n");
    result_t r = invoke(f, "{}");
    assert_null(r.function_error);
    assert_string_equal(r.payload, "400 404 405 403");
    result_clear(&r);
    run_ms(f, 300);
    char path[128], late[16] = "";
    snprintf(path, sizeof(path), "%s/late.txt", f->dir);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(late, sizeof(late), fp));
    fclose(fp);
    assert_string_equal(late, "400"); /* a response for a finished invocation */
    fixture_free(f);
}

static void test_crash_is_exit_error_and_replaced(void **state)
{
    (void)state;
    fixture_t *f = fixture_new("provided.al2023", "x", 0);
    write_file(f, "bootstrap", 0755,
               "#!/bin/bash\n"
               "A=http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime\n"
               "while true; do H=$(mktemp); E=$(curl -sS -D $H $A/invocation/next)\n"
               "ID=$(grep -i request-id $H | tr -d '[:space:]' | cut -d: -f2)\n"
               "if [ \"$E\" = crash ]; then echo dying; exit 3; fi\n"
               "curl -sS $A/invocation/$ID/response -d \"fine $E\"; done\n");
    result_t r = invoke(f, "crash");
    assert_string_equal(r.function_error, "Unhandled");
    assert_non_null(strstr(r.payload, "\"errorType\":\"Runtime.ExitError\""));
    assert_non_null(strstr(r.payload, "Runtime exited with error: exit status 3"));
    assert_non_null(strstr(r.tail, "dying\n"));
    result_clear(&r);
    r = invoke(f, "again");
    assert_null(r.function_error);
    assert_string_equal(r.payload, "fine again");
    assert_non_null(strstr(r.tail, "Init Duration")); /* a new instance */
    result_clear(&r);
    fixture_free(f);
}

static void test_timeout_kills_group(void **state)
{
    (void)state;
    fixture_t *f = fixture_new("provided.al2023", "x", 0);
    f->fn.timeout_s = 1;
    write_file(f, "bootstrap", 0755,
               "#!/bin/bash\n"
               "curl -sS http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next\n"
               "echo working; sleep 30 & wait\n");
    result_t r = invoke(f, "{}");
    assert_string_equal(r.function_error, "Unhandled");
    assert_non_null(strstr(r.payload, "Task timed out after 1.00 seconds\"}"));
    assert_null(strstr(r.payload, "errorType"));
    assert_non_null(strstr(r.tail, "working\n"));
    assert_non_null(strstr(r.tail, "Status: timeout"));
    result_clear(&r);
    run_ms(f, 200);
    assert_int_equal(lambda_exec_instances(f->x, NULL, NULL, NULL), 0);
    fixture_free(f);
}

static void test_missing_bootstrap(void **state)
{
    (void)state;
    fixture_t *f = fixture_new("provided.al2023", "x", 0);
    result_t r = invoke(f, "{}");
    assert_string_equal(r.function_error, "Unhandled");
    assert_non_null(strstr(r.payload, "Runtime.InvalidEntrypoint"));
    result_clear(&r);
    fixture_free(f);
}

static const char slow_bootstrap[] =
    "#!/bin/bash\n"
    "A=http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime\n"
    "while true; do H=$(mktemp); E=$(curl -sS -D $H $A/invocation/next)\n"
    "ID=$(grep -i request-id $H | tr -d '[:space:]' | cut -d: -f2)\n"
    "sleep 0.3; curl -sS $A/invocation/$ID/response -d \"$E\"; done\n";

static void test_concurrency_limits(void **state)
{
    (void)state;
    fixture_t *f = fixture_new("provided.al2023", "x", 3);
    write_file(f, "bootstrap", 0755, slow_bootstrap);
    aws_error_t err;
    result_t r[4] = {{0}};
    f->fn.reserved = 0; /* reserved 0: throttled, as in AWS */
    assert_int_equal(lambda_exec_invoke(f->x, &f->fn, "1", 1, NULL, on_result, &r[0], &err), -1);
    assert_string_equal(err.code, "TooManyRequestsException");
    assert_int_equal(err.status, 429);
    assert_string_equal(err.message, "Rate Exceeded.");
    f->fn.reserved = 2;
    assert_int_equal(lambda_exec_invoke(f->x, &f->fn, "1", 1, NULL, on_result, &r[0], &err), 0);
    assert_int_equal(lambda_exec_invoke(f->x, &f->fn, "2", 1, NULL, on_result, &r[1], &err), 0);
    assert_int_equal(lambda_exec_invoke(f->x, &f->fn, "3", 1, NULL, on_result, &r[2], &err), -1);
    /* another function still has the account's third slot, then the account is full */
    lambda_fn_spec_t g = f->fn;
    g.name = "other";
    g.reserved = -1;
    assert_int_equal(lambda_exec_invoke(f->x, &g, "3", 1, NULL, on_result, &r[2], &err), 0);
    assert_int_equal(lambda_exec_invoke(f->x, &g, "4", 1, NULL, on_result, &r[3], &err), -1);
    for (int i = 0; i < 3; i++) {
        wait_for(f, &r[i]);
        assert_null(r[i].function_error);
        assert_null(r[i].tail); /* not asked for */
        char want[2] = {(char)('1' + i), 0};
        assert_string_equal(r[i].payload, want);
        result_clear(&r[i]);
    }
    assert_int_equal(lambda_exec_instances(f->x, ACCOUNT, "us-east-1", "fn"), 2);
    /* warm again: both instances serve, no third is started */
    assert_int_equal(lambda_exec_invoke(f->x, &f->fn, "1", 1, NULL, on_result, &r[0], &err), 0);
    assert_int_equal(lambda_exec_invoke(f->x, &f->fn, "2", 1, NULL, on_result, &r[1], &err), 0);
    wait_for(f, &r[0]);
    wait_for(f, &r[1]);
    result_clear(&r[0]);
    result_clear(&r[1]);
    assert_int_equal(lambda_exec_instances(f->x, ACCOUNT, "us-east-1", "fn"), 2);
    fixture_free(f);
}

static void test_code_change_forget_and_reap(void **state)
{
    (void)state;
    fixture_t *f = fixture_new("provided.al2023", "x", 0);
    write_file(f, "bootstrap", 0755, slow_bootstrap);
    assert_false(lambda_exec_warm(f->x, &f->fn));
    result_t r = invoke(f, "a");
    result_clear(&r);
    assert_true(lambda_exec_warm(f->x, &f->fn)); /* idle, same code and version */
    f->fn.version = "1";
    assert_false(lambda_exec_warm(f->x, &f->fn));
    f->fn.version = "$LATEST";
    f->fn.code_id = 2; /* new code: the old instance is retired, a new one started */
    assert_false(lambda_exec_warm(f->x, &f->fn));
    r = invoke(f, "b");
    assert_non_null(strstr(r.tail, "Init Duration"));
    result_clear(&r);
    run_ms(f, 100);
    assert_int_equal(lambda_exec_instances(f->x, ACCOUNT, "us-east-1", "fn"), 1);
    lambda_exec_forget(f->x, ACCOUNT, "us-east-1", "fn");
    run_ms(f, 100);
    assert_int_equal(lambda_exec_instances(f->x, ACCOUNT, "us-east-1", "fn"), 0);
    r = invoke(f, "c");
    result_clear(&r);
    assert_int_equal(lambda_exec_instances(f->x, NULL, NULL, NULL), 1);
    run_ms(f, 2500); /* idle_ms is 1000 in these tests */
    assert_int_equal(lambda_exec_instances(f->x, NULL, NULL, NULL), 0);
    fixture_free(f);
}

static void test_c_example(void **state)
{
    (void)state;
    char exe[PATH_MAX], echo_path[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    assert_true(n > 0);
    exe[n] = 0;
    *strrchr(exe, '/') = 0; /* BUILD/tests */
    snprintf(echo_path, sizeof(echo_path), "%s/../lambda-echo", exe);
    if (access(echo_path, X_OK) != 0)
        skip();
    fixture_t *f = fixture_new("provided.al2023", "x", 0);
    char link[128];
    snprintf(link, sizeof(link), "%s/bootstrap", f->dir);
    assert_int_equal(symlink(echo_path, link), 0);
    for (int i = 0; i < 3; i++) {
        result_t r = invoke(f, "{\"n\":[1,2,3]}");
        assert_null(r.function_error);
        assert_string_equal(r.payload, "{\"n\":[1,2,3]}");
        result_clear(&r);
    }
    assert_int_equal(lambda_exec_instances(f->x, NULL, NULL, NULL), 1);
    fixture_free(f);
}

/* ---- python -------------------------------------------------------------------------------- */

static const char py_app[] =
    "import os, time\n"
    "print('loading')\n"
    "def handler(event, context):\n"
    "    print('got', event)\n"
    "    if event.get('fail'):\n"
    "        raise ValueError('bad ' + event['fail'])\n"
    "    if event.get('sleep'):\n"
    "        time.sleep(event['sleep'])\n"
    "    return {'event': event, 'name': context.function_name,\n"
    "            'version': context.function_version, 'mem': context.memory_limit_in_mb,\n"
    "            'id': context.aws_request_id, 'arn': context.invoked_function_arn,\n"
    "            'group': context.log_group_name, 'stream': context.log_stream_name,\n"
    "            'left': context.get_remaining_time_in_millis(),\n"
    "            'key': os.environ.get('AWS_ACCESS_KEY_ID', '')[:4],\n"
    "            'env': os.environ.get('AWS_EXECUTION_ENV')}\n";

static void test_python(void **state)
{
    (void)state;
    fixture_t *f = fixture_new("python3.12", "app.handler", 0);
    write_file(f, "app.py", 0644, py_app);
    result_t r = invoke(f, "{\"x\": 1}");
    assert_null(r.function_error);
    static const char *const want[] = {
        "\"event\": {\"x\": 1}",
        "\"name\": \"fn\"",
        "\"version\": \"$LATEST\"",
        "\"mem\": \"256\"",
        "\"group\": \"/aws/lambda/fn\"",
        "\"arn\": \"arn:aws:lambda:us-east-1:000000000000:function:fn\"",
        "\"key\": \"ASIA\"",
        "\"env\": \"AWS_Lambda_python3.12\"",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!strstr(r.payload, want[i]))
            fail_msg("missing %s in %s", want[i], r.payload);
    assert_non_null(strstr(r.tail, "loading\n"));
    assert_non_null(strstr(r.tail, "got {'x': 1}\n"));
    result_clear(&r);
    r = invoke(f, "{\"fail\": \"input\"}");
    assert_string_equal(r.function_error, "Unhandled");
    assert_non_null(strstr(r.payload, "\"errorMessage\": \"bad input\""));
    assert_non_null(strstr(r.payload, "\"errorType\": \"ValueError\""));
    assert_non_null(strstr(r.payload, "\"stackTrace\": ["));
    result_clear(&r);
    f->fn.timeout_s = 1;
    f->fn.code_id = 2;
    r = invoke(f, "{\"sleep\": 5}");
    assert_non_null(strstr(r.payload, "Task timed out after 1.00 seconds"));
    result_clear(&r);
    fixture_free(f);
}

static void test_python_init_errors(void **state)
{
    (void)state;
    fixture_t *f = fixture_new("python3.11", "missing.handler", 0);
    result_t r = invoke(f, "{}");
    assert_string_equal(r.function_error, "Unhandled");
    assert_non_null(strstr(r.payload, "\"errorType\": \"Runtime.ImportModuleError\""));
    assert_non_null(strstr(r.payload, "Unable to import module 'missing'"));
    result_clear(&r);
    write_file(f, "app.py", 0644, "x = 1\n");
    f->fn.handler = "app.nope";
    f->fn.code_id = 2;
    r = invoke(f, "{}");
    assert_non_null(strstr(r.payload, "\"errorType\": \"Runtime.HandlerNotFound\""));
    assert_non_null(strstr(r.payload, "Handler 'nope' missing on module 'app'"));
    result_clear(&r);
    run_ms(f, 100);
    assert_int_equal(lambda_exec_instances(f->x, NULL, NULL, NULL), 0);
    fixture_free(f);
}

/* ---- node ---------------------------------------------------------------------------------- */

static void test_node(void **state)
{
    (void)state;
    fixture_t *f = fixture_new("nodejs20.x", "index.handler", 0);
    write_file(
        f, "index.js", 0644,
        "exports.handler = async (event, context) => {\n"
        "  console.log('hi', event);\n"
        "  if (event.fail) throw new TypeError('bad ' + event.fail);\n"
        "  return { name: context.functionName, left: context.getRemainingTimeInMillis() > 0,"
        " id: context.awsRequestId.length, event };\n"
        "};\n");
    write_file(f, "cb.js", 0644,
               "exports.handler = function (event, context, callback) {\n"
               "  setTimeout(() => callback(null, { cb: event }), 10);\n"
               "};\n");
    write_file(f, "esm.mjs", 0644, "export const handler = async (event) => ({ esm: event });\n");
    result_t r = invoke(f, "{\"a\":1}");
    assert_null(r.function_error);
    assert_string_equal(r.payload, "{\"name\":\"fn\",\"left\":true,\"id\":36,\"event\":{\"a\":1}}");
    assert_non_null(strstr(r.tail, "\tINFO\thi { a: 1 }\n"));
    result_clear(&r);
    r = invoke(f, "{\"fail\":\"x\"}");
    assert_string_equal(r.function_error, "Unhandled");
    assert_non_null(strstr(r.payload, "\"errorType\":\"TypeError\""));
    assert_non_null(strstr(r.payload, "\"errorMessage\":\"bad x\""));
    result_clear(&r);
    f->fn.handler = "cb.handler";
    f->fn.code_id = 2;
    r = invoke(f, "7");
    assert_string_equal(r.payload, "{\"cb\":7}");
    result_clear(&r);
    f->fn.handler = "esm.handler";
    f->fn.code_id = 3;
    r = invoke(f, "\"m\"");
    assert_string_equal(r.payload, "{\"esm\":\"m\"}");
    result_clear(&r);
    f->fn.handler = "esm.missing";
    f->fn.code_id = 4;
    r = invoke(f, "{}");
    assert_non_null(strstr(r.payload, "\"errorType\":\"Runtime.HandlerNotFound\""));
    result_clear(&r);
    f->fn.handler = "nothere.handler";
    f->fn.code_id = 5;
    r = invoke(f, "{}");
    assert_non_null(strstr(r.payload, "\"errorType\":\"Runtime.ImportModuleError\""));
    result_clear(&r);
    fixture_free(f);
}

/* ---- the route parser ---------------------------------------------------------------------- */

static void test_rt_parse(void **state)
{
    (void)state;
    static const struct {
        const char *method, *path;
        lambda_rt_route_t route;
        const char *id;
    } cases[] = {
        {"GET", "/2018-06-01/runtime/invocation/next", LAMBDA_RT_NEXT, NULL},
        {"POST", "/2018-06-01/runtime/invocation/next", LAMBDA_RT_BAD_METHOD, NULL},
        {"POST", "/2018-06-01/runtime/invocation/abc/response", LAMBDA_RT_RESPONSE, "abc"},
        {"POST", "/2018-06-01/runtime/invocation/abc/error", LAMBDA_RT_ERROR, "abc"},
        {"GET", "/2018-06-01/runtime/invocation/abc/error", LAMBDA_RT_BAD_METHOD, NULL},
        {"POST", "/2018-06-01/runtime/init/error", LAMBDA_RT_INIT_ERROR, NULL},
        {"POST", "/2018-06-01/runtime/invocation//response", LAMBDA_RT_NOT_FOUND, NULL},
        {"POST", "/2018-06-01/runtime/invocation/a/b/response", LAMBDA_RT_NOT_FOUND, NULL},
        {"POST", "/2018-06-01/runtime/invocation/abc", LAMBDA_RT_NOT_FOUND, NULL},
        {"GET", "/2018-06-01/runtime/", LAMBDA_RT_NOT_FOUND, NULL},
        {"GET", "/", LAMBDA_RT_NOT_FOUND, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *id = NULL;
        size_t id_len = 0;
        lambda_rt_route_t r =
            lambda_rt_parse(cases[i].method, cases[i].path, strlen(cases[i].path), &id, &id_len);
        assert_int_equal(r, cases[i].route);
        if (cases[i].id) {
            assert_int_equal(id_len, strlen(cases[i].id));
            assert_memory_equal(id, cases[i].id, id_len);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rt_parse),
        cmocka_unit_test(test_tutorial_bootstrap),
        cmocka_unit_test(test_env_and_credentials),
        cmocka_unit_test(test_runtime_api_codes),
        cmocka_unit_test(test_crash_is_exit_error_and_replaced),
        cmocka_unit_test(test_timeout_kills_group),
        cmocka_unit_test(test_missing_bootstrap),
        cmocka_unit_test(test_concurrency_limits),
        cmocka_unit_test(test_code_change_forget_and_reap),
        cmocka_unit_test(test_c_example),
        cmocka_unit_test(test_python),
        cmocka_unit_test(test_python_init_errors),
        cmocka_unit_test(test_node),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
