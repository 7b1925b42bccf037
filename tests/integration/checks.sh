# checks.sh — the assertions the shell test scripts share (sourced; bash).
# The sourcing script sets passed=0 failed=0 and ends with its own summary.

# check NAME EXPECTED ACTUAL
check() {
    if [ "$2" = "$3" ]; then
        passed=$((passed + 1))
        echo "ok   $1"
    else
        failed=$((failed + 1))
        echo "FAIL $1: expected [$2] got [$3]"
    fi
}

# has CODE FILE: "yes" when FILE (a CLI's stderr) names the error CODE, else FILE itself
has() {
    if grep -q -- "$1" "$2"; then echo yes; else cat "$2"; fi
}

# jget FILE EXPR: a value from a JSON file, via jq (raw output, empty if null)
jget() { jq -r "$2 // empty" "$1" 2>/dev/null; }
