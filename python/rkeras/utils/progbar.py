"""`Progbar`: Keras 3's progress bar, with its text and its arithmetic.

verbose=1 draws one line per epoch, `12/100 ━━━━━━━━━━━━━━━━━━━━ 1s 10ms/step - loss: 0.6931`
(the ETA while running, the elapsed time once finished; the time per step leaves out the first
step, as Keras's estimate does). On a terminal it is redrawn in place with Keras's colours
(done part green, the rest grey); elsewhere (log files, pipes) only the finished line is written,
without control characters. verbose=2 writes one line when done. Where stdout cannot encode "━"
the bar is drawn with "=", as Keras falls back to.

Values are averaged over the steps they were reported for (weighted by the steps since the last
update), except the names in `stateful_metrics` (or all but `stateless_metrics`), shown as given.
"""

import math
import os
import sys
import time

import numpy as np

_BAR_CHAR = "\u2501"  # ━


def _stdout_encodes(text):
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        text.encode(encoding)
        return True
    except (UnicodeEncodeError, LookupError):
        return False


def _dynamic_display():
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty()) or "ipykernel" in sys.modules or "PYCHARM_HOSTED" in os.environ


def format_time(time_per_unit, unit_name):
    if time_per_unit >= 1 or time_per_unit == 0:
        return f" {time_per_unit:.0f}s/{unit_name}"
    if time_per_unit >= 1e-3:
        return f" {time_per_unit * 1e3:.0f}ms/{unit_name}"
    return f" {time_per_unit * 1e6:.0f}us/{unit_name}"


def _format_eta(eta):
    if eta > 3600:
        return "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
    if eta > 60:
        return "%d:%02d" % (eta // 60, eta % 60)
    return "%ds" % eta


class Progbar:
    """Progress of `current` out of `target` units (None: unknown)."""

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None, stateless_metrics=None, unit_name="step"):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Only one of `stateful_metrics` or `stateless_metrics` can be provided. `stateful_metrics` is used to "
                "make metrics stateless by default (with an exclusion list), while `stateless_metrics` is used to make "
                "metrics stateful by default (with an exclusion list)."
            )
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        if stateless_metrics is not None:
            self.stateful_metrics, self.stateless_metrics = None, set(stateless_metrics)
        else:
            self.stateful_metrics, self.stateless_metrics = set(stateful_metrics or []), None
        self._dynamic = _dynamic_display()
        self._unicode = _stdout_encodes(_BAR_CHAR)
        self._values = {}
        self._values_order = []
        self._seen_so_far = 0
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step = None
        self._prev_total_width = 0

    def _averaged(self, name):
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def update(self, current, values=None, finalize=None):
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for k, v in values or []:
            if k not in self._values_order:
                self._values_order.append(k)
            if self._averaged(k) and not finalize:
                steps = max(current - self._seen_so_far, 1)
                total, count = self._values.get(k, (0.0, 0))
                self._values[k] = (total + v * steps, count + steps)
            else:
                self._values[k] = (v, 1)
        self._seen_so_far = current
        now = time.time()
        time_per_unit = self._step_duration(current, now)
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            if self._dynamic:
                self._write_dynamic(current, now, time_per_unit, finalize)
            elif finalize:
                self._write(self._line(current, now, time_per_unit, finalize, styled=False) + "\n")
        elif self.verbose == 2 and finalize and self.target is not None and self.target > 0:
            info = f"{self._count(current)} - {now - self._start:.0f}s -{format_time(time_per_unit, self.unit_name)}"
            for k in self._values_order:
                avg = self._mean(k)
                info += f" - {k}:" + (f" {avg:.4f}" if avg > 1e-3 else f" {avg:.4e}")
            self._write(info + "\n")
        self._last_update = now

    def add(self, n, values=None):
        self.update(self._seen_so_far + n, values)

    def _step_duration(self, current, now):
        """Seconds per unit, leaving out the first (warm-up) step once there are others."""
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_unit

    def _mean(self, k):
        total, count = self._values[k]
        if not isinstance(total, float):
            total = float(np.mean(total))  # vector-valued metrics show their mean, as in Keras
        return total / max(1, count)

    def _count(self, current):
        digits = int(math.log10(self.target)) + 1
        return f"%{digits}d/%d" % (current, self.target)

    def _line(self, current, now, time_per_unit, finalize, styled):
        """The bar and its information, with Keras's ANSI styles if `styled`."""
        bold, green, grey, reset = ("\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m") if styled else ("",) * 4
        if self.target is not None and self.target > 0:
            done = int(self.width * float(current) / self.target)
            bar = f"{bold}{self._count(current)}{reset} "
            if done > 0:
                bar += f"{green}{_BAR_CHAR * done}{reset}"
            bar += f"{grey}{_BAR_CHAR * (self.width - done)}{reset}"
        else:
            bar = "%7d/Unknown" % current
        if self.target is not None and self.target > 0 and not finalize:
            info = f" {bold}{_format_eta(time_per_unit * (self.target - current))}{reset}"
        else:
            info = f" {bold}{now - self._start:.0f}s{reset}"
        info += format_time(time_per_unit, self.unit_name)
        for k in self._values_order:
            avg = self._mean(k)
            info += f" - {k}:" + (f" {avg:.4f}" if abs(avg) > 1e-3 else f" {avg:.4e}")
        line = bar + info
        return line if self._unicode else line.replace(_BAR_CHAR, "=")

    def _write_dynamic(self, current, now, time_per_unit, finalize):
        line = self._line(current, now, time_per_unit, finalize, styled=True)
        width = len(self._line(current, now, time_per_unit, finalize, styled=False))
        message = "\b" * self._prev_total_width + "\r" + line
        if self._prev_total_width > width:
            message += " " * (self._prev_total_width - width)
        if finalize:
            message += "\n"
        self._write(message)
        self._prev_total_width = width

    @staticmethod
    def _write(text):
        try:
            sys.stdout.write(text)
        except UnicodeEncodeError:
            encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
            sys.stdout.write(text.replace(_BAR_CHAR, "=").encode(encoding, "ignore").decode(encoding))
        sys.stdout.flush()
