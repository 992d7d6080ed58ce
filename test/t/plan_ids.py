# Recomputes the ids of plans from their text alone (docs/plan-format.md,
# "Ids"): reads one plan's canonical text a line on standard input, checks
# that it is its own RFC 8785 text and that every step_id and the plan_id
# are the SHA-256 of the text without them; prints how many ids it checked.
# Used by the TAP tests that compare plans (006, 011).
import hashlib
import json
import sys


def canon(o):
    return json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


ok = 0
for line in sys.stdin:
    text = line.rstrip("\n")
    plan = json.loads(text)
    assert canon(plan) == text, "not canonical"
    for step in plan["steps"]:
        s = dict(step)
        sid = s.pop("step_id")
        assert hashlib.sha256(canon(s).encode()).hexdigest() == sid, "step_id"
        ok += 1
    p = dict(plan)
    pid = p.pop("plan_id")
    assert hashlib.sha256(canon(p).encode()).hexdigest() == pid, "plan_id"
    ok += 1
print(ok)
