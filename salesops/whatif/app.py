"""The what-if app: ipywidgets controls over a :class:`~salesops.whatif.model.WhatIfModel`.

Every change of a control recomputes the scenario and updates, in this order, the comparison of the current
plan with the proposed one (an HTML table with the CSS class ``whatif-cost``; the proposed cost of sales and
variable pay carry ``whatif-cos`` and ``whatif-total``), the reps who gain or lose most (by name) and the
figure (payout per rep and attainment histogram). "Reset" puts every control back to the current plan. Runs in
a notebook (``display(app.widget)``) and as a Voilà page (``salesops whatif``).

Every area keeps its size whatever it shows (the lists of movers always have the same number of rows), so the
page does not jump as numbers come and go. An error other than a lever setting the plan refuses is logged with
its traceback to the logger ``salesops.whatif`` (by default the process's original standard error: the
operator's terminal under ``salesops whatif``) and the page says only that the setting could not be computed.
"""

from __future__ import annotations

import html
import io
import logging
import sys

import ipywidgets as w

from salesops.comp.baseline import PlanCost
from salesops.whatif.model import Levers, Scenario, WhatIfModel

__all__ = ["WhatIfApp", "log"]



def _operator_stream():
    """The process's real standard error. In a Jupyter kernel ``sys.stderr`` is sent to the browser and file
    descriptor 2 is a pipe that also feeds it; ipykernel keeps a copy of the original descriptor, which goes
    to the server's terminal or log only (ipykernel routes its own log there the same way)."""
    copy = getattr(sys.stderr, "_original_stdstream_copy", None)
    if copy is not None:
        return io.TextIOWrapper(io.FileIO(copy, "w", closefd=False), write_through=True)
    return sys.__stderr__ or sys.stderr


#: Where the app logs errors for the operator.
log = logging.getLogger("salesops.whatif")
if not log.handlers:
    _handler = logging.StreamHandler(_operator_stream())
    _handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    log.addHandler(_handler)
    log.propagate = False

#: Rows in each list of movers (always shown, blank when fewer reps move).
MOVERS = 5
_FIGURE = {"width": "800px", "height": "288px"}  # the PNG's size (10 x 3.6 in at 80 dpi): space kept


def _money(x: float) -> str:
    return f"-${-x:,.0f}" if x < 0 else f"${x:,.0f}"


def _signed_money(x: float) -> str:
    if round(x) == 0:
        return "±$0"
    return f"+${x:,.0f}" if x > 0 else f"−${-x:,.0f}"


def comparison_rows(current: PlanCost, proposed: PlanCost) -> list[tuple[str, str, str, str]]:
    """``(measure, current, proposed, change)`` as shown: cost of sales in % (change in points), money in $."""
    cos = proposed.cost_of_sales - current.cost_of_sales
    return [
        ("Cost of sales", f"{current.cost_of_sales:.2%}", f"{proposed.cost_of_sales:.2%}",
         "±0.00 pt" if round(cos * 1e4) == 0 else f"{cos * 100:+.2f} pt".replace("-", "−")),
        ("Variable pay", _money(current.variable_pay), _money(proposed.variable_pay),
         _signed_money(proposed.variable_pay - current.variable_pay)),
        ("Base pay", _money(current.base_pay), _money(proposed.base_pay),
         _signed_money(proposed.base_pay - current.base_pay)),
        ("Bookings", _money(current.bookings), _money(proposed.bookings),
         _signed_money(proposed.bookings - current.bookings)),
    ]


_CLASSES = {"Cost of sales": "whatif-cos", "Variable pay": "whatif-total"}
_TABLE = ("<table class='whatif-compare' style='border-collapse:collapse;font-variant-numeric:tabular-nums'>"
          "<tr><th></th><th style='text-align:right;padding:0 12px'>Current plan</th>"
          "<th style='text-align:right;padding:0 12px'>Proposed</th>"
          "<th style='text-align:right;padding:0 12px'>Change</th></tr>{}</table>")


def _comparison_html(current: PlanCost, proposed: PlanCost) -> str:
    rows = []
    for i, (label, cur, new, change) in enumerate(comparison_rows(current, proposed)):
        size = "font-size:1.25em;" if i == 0 else ""
        cls = f" class='{_CLASSES[label]}'" if label in _CLASSES else ""
        rows.append(f"<tr style='{size}'><th style='text-align:left'>{label}</th>"
                    f"<td style='text-align:right;padding:0 12px'>{cur}</td>"
                    f"<td style='text-align:right;padding:0 12px'><b><span{cls}>{new}</span></b></td>"
                    f"<td style='text-align:right;padding:0 12px'>{change}</td></tr>")
    return _TABLE.format("".join(rows))


def _movers_html(scenario: Scenario, n: int = MOVERS) -> str:
    gain, lose = scenario.movers(n)

    def rows(df) -> str:
        cells = [f"<tr><td>{html.escape(str(r.name))}</td><td style='text-align:right'>"
                 f"{_signed_money(r.change)}</td></tr>" for r in df.itertuples()]
        if not cells:
            cells = ["<tr><td style='color:#616e7c'>nobody</td><td></td></tr>"]
        cells += ["<tr><td>&nbsp;</td><td></td></tr>"] * (n - len(cells))
        return "".join(cells)

    table = "<table style='width:100%;font-variant-numeric:tabular-nums'>{}</table>"
    return (f"<div style='display:flex;gap:24px'><div style='flex:1'><b>Gain most</b>{table.format(rows(gain))}"
            f"</div><div style='flex:1'><b>Lose most</b>{table.format(rows(lose))}</div></div>")


class WhatIfApp:
    """Widgets bound to a model.

    Attributes
    ----------
    controls : dict of str to ipywidgets.FloatSlider
        ``quota_level`` (%), ``base_rate``, ``accelerator``, ``decelerator``, ``cap`` (× target incentive),
        ``spif_amount`` ($ per deal).
    initial : dict of str to float
        The current plan's settings (what :meth:`reset` restores).
    reset_button : ipywidgets.Button
    cost : ipywidgets.HTML
        Current plan, proposed plan and change: cost of sales, variable pay, base pay, bookings.
    movers : ipywidgets.HTML
        Biggest gainers and losers, by name.
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
        style = {"description_width": "120px"}

        def slider(desc, value, lo, hi, step, fmt, unit="", tip=""):
            s = w.FloatSlider(value=value, min=lo, max=hi, step=step, description=desc, readout_format=fmt,
                              continuous_update=False, style=style, layout=w.Layout(width="400px"),
                              description_allow_html=False, tooltip=tip)
            suffix = w.HTML(f"<span class='whatif-unit'>{html.escape(unit)}</span>",
                            layout=w.Layout(width="150px"))
            return s, w.HBox([s, suffix])

        specs = {
            "quota_level": ("Quota level", 1.0, 0.5, 1.5, 0.05, ".0%", "of each quota",
                            "every quota times this level"),
            "base_rate": ("Base rate", rates["base"], 0.0, 3.0, 0.05, ".2f", "× target",
                          "pay per 100 % of quota between 50 % and 100 %, in target incentives"),
            "accelerator": ("Accelerator", rates["acc"], 0.0, 5.0, 0.1, ".1f", "× target",
                            "pay per 100 % of quota above quota, in target incentives"),
            "decelerator": ("Decelerator", rates["dec"], 0.0, 2.0, 0.05, ".2f", "× target",
                            "pay per 100 % of quota below 50 %, in target incentives"),
            "cap": ("Cap", plan.cap or 0.0, 0.0, 6.0, 0.1, ".1f", "× target (0 = none)",
                    "most a period pays, in target incentives; 0 = no cap"),
            "spif_amount": ("SPIF", plan.spif.amount if plan.spif else 0.0, 0.0, 5000.0, 100.0, "$,.0f",
                            "per deal", "paid per deal that earns the SPIF"),
        }
        self.controls, rows = {}, []
        for key, spec in specs.items():
            self.controls[key], row = slider(*spec)
            rows.append(row)
        self.initial = {k: c.value for k, c in self.controls.items()}
        self.reset_button = w.Button(description="Reset to current plan", tooltip="every lever back to the plan",
                                     layout=w.Layout(width="200px", margin="8px 0 0 124px"))
        self.reset_button.add_class("whatif-reset")
        self.reset_button.on_click(lambda _b: self.reset())
        self.cost = w.HTML(layout=w.Layout(min_height="130px"))
        self.cost.add_class("whatif-cost")
        self.movers = w.HTML(layout=w.Layout(min_height=f"{40 + 22 * MOVERS}px"))
        self.movers.add_class("whatif-movers")
        self.error = w.HTML(layout=w.Layout(min_height="24px"))
        self.error.add_class("whatif-error")
        self.figure = w.Image(format="png", layout=w.Layout(**_FIGURE))
        self._quiet = False
        for c in self.controls.values():
            c.observe(self._on_change, names="value")
        year = f" · plan year {html.escape(model.period)}" if model.period else ""
        title = w.HTML(f"<h3>What-if: {html.escape(plan.name)}{year}</h3>")
        self.widget = w.VBox([
            title,
            w.HBox([w.VBox([*rows, self.reset_button], layout=w.Layout(width="560px")),
                    w.VBox([self.cost, self.error, self.movers], layout=w.Layout(width="470px"))]),
            self.figure,
        ])
        self.widget.add_class("whatif-app")
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

    def reset(self) -> Scenario | None:
        """Every control back to the current plan; one recomputation."""
        self._quiet = True
        try:
            for k, c in self.controls.items():
                c.value = self.initial[k]
        finally:
            self._quiet = False
        return self.update()

    def _on_change(self, change) -> None:
        if not self._quiet:
            self.update()

    def update(self) -> Scenario | None:
        """Recompute and refresh the comparison, the movers and (when enabled) the figure."""
        try:
            return self._update()
        except ValueError as exc:  # a lever setting the plan validation refuses: the user can act on it
            self.error.value = f"<span style='color:#b42318'>{html.escape(str(exc))}</span>"
        except Exception:  # a bug: the traceback is for the operator, not the page
            log.exception("what-if update failed for %s", self.levers())
            self.error.value = ("<span style='color:#b42318'>This setting could not be computed; the error is "
                                "logged for whoever runs the app.</span>")
        return None

    def _update(self) -> Scenario:
        s = self.model.evaluate(self.levers())
        self.error.value = ""
        self.scenario = s
        self.cost.value = _comparison_html(s.current, s.cost)
        self.movers.value = _movers_html(s)
        if self.draw_figure:
            from salesops.plots import set_style
            from salesops.plots.comp import plot_whatif

            set_style()
            buf = io.BytesIO()
            plot_whatif(s).savefig(buf, format="png", dpi=80)  # closed by the plot helper
            self.figure.value = buf.getvalue()
        return s
