"""What-if comp-plan modelling: move a quota or an accelerator and see at once what it costs.

>>> from salesops.whatif import WhatIfApp          # doctest: +SKIP
>>> app = WhatIfApp.from_data(data, plan="ae_standard")
>>> app.widget                                     # in a notebook; `salesops whatif` serves it with Voilà
"""

from salesops.whatif.model import Levers, Scenario, WhatIfModel, rep_names

__all__ = ["Levers", "Scenario", "WhatIfApp", "WhatIfModel", "rep_names"]


def __getattr__(name: str):
    if name == "WhatIfApp":  # ipywidgets is imported only when the app is used
        from salesops.whatif.app import WhatIfApp

        return WhatIfApp
    raise AttributeError(name)
