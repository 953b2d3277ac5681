"""A panel that shows as a live widget in a kernel and as static HTML everywhere else."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets


class StaticHTMLBox(widgets.VBox):
    """A VBox whose saved form is its :meth:`to_html`.

    A live kernel renders the widget; a saved notebook, nbviewer, GitHub or a test reading
    ``_repr_html_`` gets the same content as plain HTML. Subclasses define ``to_html()``.
    """

    def to_html(self) -> str:  # pragma: no cover - every panel defines its own
        raise NotImplementedError

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = dict(super()._repr_mimebundle_(**kwargs) or {})
        bundle["text/html"] = self.to_html()
        return bundle
