"""What the CLI tests share: running main.py's entry point in-process and checking its errors."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout

from explorer.app import main


def app(*argv: str) -> tuple[int, str, str]:
    """Run main.py's entry point in-process; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def assert_usage_error(code: int, out: str, err: str) -> None:
    """Exit 2, nothing on stdout, exactly one `error:` line and no traceback."""
    assert code == 2, (code, out, err)
    assert out == "" and "Traceback" not in err
    assert err.startswith("error: ") and err.endswith("\n") and err.count("\n") == 1, err
