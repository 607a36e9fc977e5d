"""The check counter of the Python tests (tests/test_*.py), counting the way
tests/support/check.c does and ending with the "TESTS passed failed skipped" line that
tests/run_tests.sh adds up."""
import sys


class Checks:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.case_failures = 0

    def check(self, cond, what):
        if not cond:
            self.case_failures += 1
            print(f"  CHECK failed: {what}", file=sys.stderr)
        return cond

    def case(self, name, fn, *args):
        self.case_failures = 0
        try:
            fn(*args)
        except Exception as e:  # an exception is a failed case, not a crash of the suite
            self.case_failures += 1
            print(f"  {name}: {type(e).__name__}: {e}", file=sys.stderr)
        if self.case_failures:
            self.failed += 1
            print(f"FAIL {name}")
        else:
            self.passed += 1
            print(f"ok {name}")

    def skip(self, name, reason):
        self.skipped += 1
        print(f"skip {name}: {reason}")

    def summary(self):
        print(f"TESTS {self.passed} {self.failed} {self.skipped}")
        return 1 if self.failed else 0
