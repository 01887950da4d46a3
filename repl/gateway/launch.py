"""The embedded gateway's entry point (``python -m repl.gateway.launch ARGS``): Kernel Gateway's
own ``launch_instance``, minus one optional import that costs most of its start-up.

jsonschema (through nbformat) imports ``rfc3987_syntax`` when it is installed, for its ``iri``
format checker; that package builds a Lark grammar at import: ~0.9 s of the gateway's ~1.3 s of
imports here. The gateway validates no IRIs, so the import is skipped and the checker left out.
"""

import sys

if __name__ == "__main__":
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]  # None: "import it" fails fast
    from kernel_gateway.gatewayapp import launch_instance  # type: ignore[import-untyped]

    launch_instance()
