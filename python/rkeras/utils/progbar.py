"""`Progbar`: Keras 3's progress bar.

verbose=1 redraws one line per epoch:
    `12/100 ━━━━━━━━━━━━━━━━━━━━ 1s 10ms/step - accuracy: 0.5000 - loss: 0.6931`
(the ETA while running, the elapsed time once finished); verbose=2 prints one line when done.
Where stdout cannot encode "━" the bar is drawn with ASCII ("=" done, "." to go).
"""

import math
import sys
import time

_BAR_CHAR = "\u2501"  # ━
_REST_CHAR = "\u2500"  # ─


def _stdout_encodes(text):
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        text.encode(encoding)
        return True
    except (UnicodeEncodeError, LookupError):
        return False


def _dynamic_display():
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty()) or "ipykernel" in sys.modules


def format_time(time_per_unit, unit_name):
    if time_per_unit >= 1 or time_per_unit == 0:
        return f" {time_per_unit:.0f}s/{unit_name}"
    if time_per_unit >= 1e-3:
        return f" {time_per_unit * 1e3:.0f}ms/{unit_name}"
    return f" {time_per_unit * 1e6:.0f}us/{unit_name}"


def format_value(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return f" {value}"
    return f" {value:.4f}" if abs(value) > 1e-3 else f" {value:.4e}"


def _format_eta(eta):
    if eta > 3600:
        return f"{int(eta // 3600)}:{int((eta % 3600) // 60):02d}:{int(eta % 60):02d}"
    if eta > 60:
        return f"{int(eta // 60)}:{int(eta % 60):02d}"
    return f"{eta:.0f}s"


class Progbar:
    """Progress of `current` out of `target` units (None: unknown), with `values` shown as
    given (the trainer's logs are already running means)."""

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None, unit_name="step"):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics or [])
        self._dynamic = _dynamic_display()
        self._unicode = _stdout_encodes(_BAR_CHAR + _REST_CHAR)
        self._values = {}
        self._values_order = []
        self._start = time.time()
        self._last_update = 0.0
        self._prev_total_width = 0
        self._seen_so_far = 0
        self._time_at_first_step = None

    def update(self, current, values=None, finalize=None):
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for k, v in values or []:
            if k not in self._values_order:
                self._values_order.append(k)
            self._values[k] = v
        self._seen_so_far = current
        now = time.time()
        if self._time_at_first_step is None and current > 0:
            self._time_at_first_step = now
        per_unit = (now - self._start) / current if current else 0.0
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            bar = self._bar(current)
            if self.target is not None and not finalize:
                info = f" {_format_eta(per_unit * (self.target - current))}"
            else:
                info = f" {now - self._start:.0f}s"
            info += format_time(per_unit, self.unit_name)
            info += self._metrics()
            line = bar + info
            width = len(line)
            pad = " " * max(self._prev_total_width - width, 0)
            prefix = "\r" if self._dynamic else ""
            end = "\n" if finalize or not self._dynamic else ""
            if self._dynamic or finalize:
                self._write(prefix + line + pad + end)
            self._prev_total_width = width
            self._last_update = now
        elif self.verbose == 2 and finalize:
            count = self._count(current)
            self._write(f"{count} - {now - self._start:.0f}s -{format_time(per_unit, self.unit_name)}{self._metrics()}\n")

    def add(self, n, values=None):
        self.update(self._seen_so_far + n, values)

    def _count(self, current):
        if self.target is None:
            return f"{current:7d}/Unknown"
        digits = int(math.log10(max(self.target, 1))) + 1
        return f"{current:{digits}d}/{self.target}"

    def _bar(self, current):
        count = self._count(current)
        if self.target is None:
            return count
        done = int(self.width * min(current / self.target, 1.0)) if self.target else self.width
        if self._unicode:
            # Keras draws both parts with "━" and tells them apart by colour; without colour
            # codes (log files) the unfinished part is drawn thin.
            return f"{count} {_BAR_CHAR * done}{_REST_CHAR * (self.width - done)}"
        return f"{count} [{'=' * done}{'.' * (self.width - done)}]"

    def _metrics(self):
        return "".join(f" - {k}:{format_value(self._values[k])}" for k in self._values_order)

    @staticmethod
    def _write(text):
        try:
            sys.stdout.write(text)
        except UnicodeEncodeError:
            sys.stdout.write(text.encode("ascii", "replace").decode("ascii"))
        sys.stdout.flush()
