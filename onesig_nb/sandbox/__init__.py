"""Local OneSignal-compatible sandbox: both API generations, SQLite-backed, with faults.

``Sandbox`` (in :mod:`.control`) starts the server in its own process; the server itself
(:mod:`.server`, uvicorn + uvloop + httptools) is only imported there, so importing this
package stays cheap.
"""

from __future__ import annotations

from onesig_nb.sandbox.control import Sandbox

__all__ = ["Sandbox"]
