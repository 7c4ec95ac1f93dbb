"""Regenerate the committed protobuf modules of this folder from MEXC's official `.proto` files.

The `.proto` files are MEXC's (github.com/mexcdevelop/websocket-proto, Apache-2.0), kept in the
shared fixtures (`../shared/fixtures/mexc/proto/`); the generated `*_pb2.py` are committed so an
install needs only the `protobuf` runtime. To regenerate (protoc 35.1 from grpcio-tools 1.85.1,
whose code wants protobuf >= 7.35 at run time):

    python3 -m venv /tmp/pgen && /tmp/pgen/bin/pip install grpcio-tools==1.85.1
    /tmp/pgen/bin/python connectors/mexc/pb/generate.py ../shared/fixtures/mexc/proto

protoc writes `import X_pb2` for the files' bare-name imports; inside a package that must be
`from . import X_pb2`, which this script rewrites.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(proto_dir: str) -> None:
    src = Path(proto_dir).resolve()
    protos = sorted(p.name for p in src.glob("*.proto"))
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{src}",
                    f"--python_out={HERE}", f"--pyi_out={HERE}", *protos], check=True)
    for path in [*HERE.glob("*_pb2.py"), *HERE.glob("*_pb2.pyi")]:
        text = re.sub(r"^import (\w+_pb2) as", r"from . import \1 as", path.read_text(),
                      flags=re.M)
        text = re.sub(r"^import (\w+_pb2)$", r"from . import \1", text, flags=re.M)
        path.write_text(text)
    print(f"generated {len(protos)} modules into {HERE}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(HERE.parents[3] / "shared/fixtures/mexc/proto"))
