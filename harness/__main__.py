import os
import sys

if os.environ.get("XAI_HARNESS_ALLOW_DOWNLOAD", "") in ("", "0", "false"):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

from .cli import main  # noqa: E402

try:
    code = main()
    sys.stdout.flush()
except BrokenPipeError:  # the reader went away (`python -m harness list metrics --json | head`): stop quietly
    # Python flushes stdout again at exit; point it at devnull so that flush cannot raise a second time
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    code = 1
sys.exit(code)
