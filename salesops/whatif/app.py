"""The what-if app: ipywidgets controls over a :class:`~salesops.whatif.model.WhatIfModel`.

Every change of a control recomputes the scenario and updates, in this order, the cost figure (a label
with the CSS class ``whatif-cost``), the reps who gain or lose most, and the figure (payout per rep and
attainment histogram). Runs in a notebook (``display(app.widget)``) and as a Voilà page
(``salesops whatif``).
"""

from __future__ import annotations

import html
import io

import ipywidgets as w

from salesops.whatif.model import Levers, Scenario, WhatIfModel

__all__ = ["WhatIfApp"]


def _money(x: float) -> str:
    return f"${x:,.0f}"


class WhatIfApp:
    """Widgets bound to a model.

    Attributes
    ----------
    controls : dict of str to ipywidgets.Widget
        ``quota_level, base_rate, accelerator, decelerator, cap, spif_amount``.
    cost : ipywidgets.HTML
        The headline: cost of sales and total variable pay.
    movers : ipywidgets.HTML
        Biggest gainers and losers.
    figure : ipywidgets.Image
        The payout and attainment figure (PNG).
    scenario : Scenario
        The last evaluation.
    """

    def __init__(self, model: WhatIfModel, draw_figure: bool = True):
        self.model = model
        self.draw_figure = draw_figure
        plan = model.plan
        rates = {"base": 1.0, "acc": 1.0, "dec": 1.0}
        for t in plan.tiers:
            if t.lower >= 1.0:
                rates["acc"] = t.rate
            elif t.upper is not None and t.upper <= 0.5:
                rates["dec"] = t.rate
            elif t.lower >= 0.5 and t.upper is not None and t.upper <= 1.0:
                rates["base"] = t.rate
        style = {"description_width": "110px"}
        layout = w.Layout(width="420px")

        def slider(desc, value, lo, hi, step, fmt=".2f"):
            return w.FloatSlider(value=value, min=lo, max=hi, step=step, description=desc, readout_format=fmt,
                                 continuous_update=False, style=style, layout=layout)

        self.controls = {
            "quota_level": slider("Quota level", 1.0, 0.5, 1.5, 0.05),
            "base_rate": slider("Base rate", rates["base"], 0.0, 3.0, 0.05),
            "accelerator": slider("Accelerator", rates["acc"], 0.0, 5.0, 0.1),
            "decelerator": slider("Decelerator", rates["dec"], 0.0, 2.0, 0.05),
            "cap": slider("Cap (0 = none)", plan.cap or 0.0, 0.0, 6.0, 0.1),
            "spif_amount": w.FloatSlider(value=plan.spif.amount if plan.spif else 0.0, min=0, max=5000, step=100,
                                         description="SPIF per deal", readout_format=",.0f",
                                         continuous_update=False, style=style, layout=layout),
        }
        self.cost = w.HTML()
        self.cost.add_class("whatif-cost")
        self.movers = w.HTML()
        self.error = w.HTML()
        self.figure = w.Image(format="png", layout=w.Layout(max_width="900px"))
        for c in self.controls.values():
            c.observe(self._on_change, names="value")
        title = w.HTML(f"<h3>What-if: {html.escape(plan.name)}</h3>")
        self.widget = w.VBox([
            title,
            w.HBox([w.VBox(list(self.controls.values())), w.VBox([self.cost, self.error, self.movers])]),
            self.figure,
        ])
        self.scenario: Scenario | None = None
        self.update()

    @classmethod
    def from_data(cls, data, plan="ae_standard", period: str | None = None, **kw) -> WhatIfApp:
        """Build the model from a :class:`~salesops.SalesData` and wrap it."""
        return cls(WhatIfModel.from_data(data, plan=plan, period=period), **kw)

    def levers(self) -> Levers:
        """The controls' current settings."""
        v = {k: c.value for k, c in self.controls.items()}
        return Levers(quota_level=v["quota_level"], base_rate=v["base_rate"], accelerator=v["accelerator"],
                      decelerator=v["decelerator"], cap=v["cap"], spif_amount=v["spif_amount"])

    def _on_change(self, change) -> None:
        self.update()

    def update(self) -> Scenario | None:
        """Recompute and refresh the cost label, the movers and (when enabled) the figure."""
        try:
            s = self.model.evaluate(self.levers())
        except ValueError as exc:  # a lever setting the plan validation refuses
            self.error.value = f"<span style='color:#b42318'>{html.escape(str(exc))}</span>"
            return None
        self.error.value = ""
        self.scenario = s
        self.cost.value = (
            f"<div style='font-size:1.3em'><b>Cost of sales: <span class='whatif-cos'>{s.cost_of_sales:.2%}"
            f"</span></b></div><div>Variable pay: <span class='whatif-total'>{_money(s.total_payout)}</span>"
            f" &middot; base {_money(s.base_pay)} &middot; bookings {_money(s.bookings)}</div>"
        )
        gain, lose = s.movers(5)

        def rows(df):
            return "".join(f"<tr><td>{html.escape(str(r.name))}</td><td style='text-align:right'>"
                           f"{r.change:+,.0f}</td></tr>" for r in df.itertuples()) or "<tr><td>none</td></tr>"

        self.movers.value = (f"<b>Gain most</b><table>{rows(gain)}</table>"
                             f"<b>Lose most</b><table>{rows(lose)}</table>")
        if self.draw_figure:
            from salesops.plots import set_style
            from salesops.plots.comp import plot_whatif

            set_style()
            buf = io.BytesIO()
            plot_whatif(s).savefig(buf, format="png", dpi=80)
            self.figure.value = buf.getvalue()
        return s
