import os
import sys

if os.environ.get("XAI_HARNESS_ALLOW_DOWNLOAD", "") in ("", "0", "false"):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

from .cli import main  # noqa: E402

sys.exit(main())
