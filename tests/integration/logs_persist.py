"""CloudWatch Logs across a restart: `logs_persist.py before` writes groups,
streams, events and a retention policy and deletes some; `logs_persist.py
after` (on the restarted server, same --data-dir) checks exactly those
survived. Prints `persistence-logs: N passed, M failed`."""

import sys
import time

from nagare_client import client

G, GONE = "/persist/logs", "/persist/gone"


def before(logs):
    t = int(time.time() * 1000)
    logs.create_log_group(logGroupName=G)
    logs.put_retention_policy(logGroupName=G, retentionInDays=7)
    for s in ("a", "b", "deleted"):
        logs.create_log_stream(logGroupName=G, logStreamName=s)
    logs.put_log_events(logGroupName=G, logStreamName="a",
                        logEvents=[{"timestamp": t + i, "message": "a%d" % i} for i in range(3)])
    logs.put_log_events(logGroupName=G, logStreamName="b", logEvents=[{"timestamp": t, "message": "b0"}])
    logs.put_log_events(logGroupName=G, logStreamName="deleted", logEvents=[{"timestamp": t, "message": "x"}])
    logs.delete_log_stream(logGroupName=G, logStreamName="deleted")
    logs.create_log_group(logGroupName=GONE)
    logs.create_log_stream(logGroupName=GONE, logStreamName="s")
    logs.put_log_events(logGroupName=GONE, logStreamName="s", logEvents=[{"timestamp": t, "message": "x"}])
    logs.delete_log_group(logGroupName=GONE)
    return [("written", True)]


def after(logs):
    groups = {g["logGroupName"]: g for g in logs.describe_log_groups(logGroupNamePrefix="/persist/")["logGroups"]}
    streams = [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=G)["logStreams"]] if G in groups else []
    events = [e["message"] for e in logs.filter_log_events(logGroupName=G)["events"]] if G in groups else []
    # new events get sequence numbers after the restored ones
    if G in groups:
        logs.put_log_events(logGroupName=G, logStreamName="b",
                            logEvents=[{"timestamp": int(time.time() * 1000) + 10, "message": "b1"}])
    later = [e["message"] for e in logs.get_log_events(logGroupName=G, logStreamName="b",
                                                       startFromHead=True)["events"]] if G in groups else []
    return [
        ("group survived, deleted group did not", sorted(groups) == [G]),
        ("retention survived", groups.get(G, {}).get("retentionInDays") == 7),
        ("streams survived, deleted stream did not", streams == ["a", "b"]),
        ("events survived in order", events == ["a0", "b0", "a1", "a2"] or events == ["b0", "a0", "a1", "a2"]),
        ("writes continue after the restart", later == ["b0", "b1"]),
    ]


def main():
    logs = client("logs")
    checks = (before if sys.argv[1] == "before" else after)(logs)
    for name, ok in checks:
        print("%s %s" % ("ok  " if ok else "FAIL", name))
    failed = sum(1 for _, ok in checks if not ok)
    print("persistence-logs: %d passed, %d failed" % (len(checks) - failed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
