"""A deliberately buggy WebApp operator: it forgets the owner reference, so deleting a
WebApp leaves its Deployment (and pods) behind. Try:

    kmodel explore examples/webapp/scenario.yaml --plugin webapp_plugin \\
        --impl webapp=webapp_plugin.buggy:ForgetfulWebAppController
"""

from __future__ import annotations

from webapp_plugin.controller import WebAppController


class ForgetfulWebAppController(WebAppController):
    """Creates the Deployment without a controller reference."""

    set_owner = False
