"""What the harness prints: each run, the medians per shipper, the agent/rsyslog ratios pair by pair."""
import statistics

# per mode: (result key, label, format) of the figures compared
FIGURES = {
    "burst": [("lines_per_s", "throughput", "%.0f l/s"), ("cpu_s", "cpu", "%.2f CPU-s"),
              ("peak_rss_mib", "rss", "%.1f MiB")],
    "idle": [("cpu_s", "cpu", "%.3f CPU-s"), ("cpu_pct", "cpu%", "%.2f%%"), ("rss_mib", "rss", "%.1f MiB")],
    "steady": [("p50_ms", "p50", "%.1f ms"), ("p99_ms", "p99", "%.1f ms"), ("max_ms", "max", "%.1f ms"),
               ("cpu_pct", "cpu", "%.1f%%"), ("peak_rss_mib", "rss", "%.1f MiB")],
}


def shown(value, form):
    return "n/a" if value is None else form % value


def median(values):
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v]
    return statistics.median(numbers) if numbers else None


def run_line(run):
    head = "round %d %-7s:" % (run["round"], run["shipper"])
    if run["mode"] == "burst":
        text = ("%s LLEN %d/%d in %.2f s = %.0f l/s | cpu %.2f s (%.0f%% of a core) | peak RSS %.1f MiB "
                "(sampled %.1f, HWM %.1f) | redis cpu %.2f s | lost %d dup %d | sample %d/%d ok"
                % (head, run["llen"], run["lines"], run["elapsed_s"], run["lines_per_s"], run["cpu_s"],
                   run["cpu_pct"], run["peak_rss_mib"], run["rss_sampled_max_mib"], run["hwm_main_mib"],
                   run["redis_cpu_s"], run["lost"], run["dup"], run["sample"] - run["sample_bad"], run["sample"]))
        text += "".join("\n    " + problem for problem in run["sample_errors"][:3])
        if run.get("foreign"):
            text += "\n    %d foreign element(s): late canaries or not JSON" % run["foreign"]
        if not run["complete"]:
            text += "\n    INCOMPLETE: " + run["stopped_by"]
    elif run["mode"] == "idle":
        text = ("%s idle %.0f s | cpu %.3f s (%.2f%% of a core) | RSS max %.1f MiB avg %.1f | redis cpu %.3f s"
                % (head, run["seconds"], run["cpu_s"], run["cpu_pct"], run["rss_mib"], run["rss_avg_mib"],
                   run["redis_cpu_s"]))
    else:
        text = ("%s %g l/s x %.0f s | delivered %d/%d | latency p50 %.1f ms p99 %.1f ms max %.1f ms | cpu %.2f s "
                "(%.1f%% of a core) | RSS peak %.1f MiB avg %.1f | redis cpu %.2f s | harness cpu %.2f s"
                % (head, run["rate"], run["seconds"], run["delivered"], run["expected"], run["p50_ms"],
                   run["p99_ms"], run["max_ms"], run["cpu_s"], run["cpu_pct"], run["peak_rss_mib"], run["rss_mib"],
                   run["redis_cpu_s"], run["harness_cpu_s"]))
    return text + " | ready %.1f s" % run["ready_s"]


def limit_line(round_number, limit):
    return ("round %d redis-limit: %.2f s = %.0f l/s | LLEN %d | redis cpu %.2f s | %s"
            % (round_number, limit["elapsed_s"], limit["lines_per_s"], limit["llen"], limit["redis_cpu_s"],
               limit["pipe"]))


class Summary:
    """Medians per shipper and agent/rsyslog ratios over the rounds that ran both; printed, then as JSON."""

    def __init__(self, args, runs, limits):
        self.args, self.runs, self.limits = args, runs, limits
        self.figures = FIGURES[args.mode]
        self.shippers = [name for name in ("agent", "rsyslog") if any(run["shipper"] == name for run in runs)]
        numeric = [key for key, value in runs[0].items() if isinstance(value, (int, float)) and not isinstance(value, bool)]
        self.medians = {name: {key: median(run[key] for run in runs if run["shipper"] == name) for key in numeric}
                        for name in self.shippers}
        by_round = {(run["shipper"], run["round"]): run for run in runs}
        pairs = [(by_round[("agent", n)], by_round[("rsyslog", n)]) for n in range(1, args.rounds + 1)
                 if ("agent", n) in by_round and ("rsyslog", n) in by_round]
        self.pair_ratios = {label: [agent[key] / other[key] if other[key] else None for agent, other in pairs]
                            for key, label, _ in self.figures} if pairs else {}
        self.ratios = {label: median(values) for label, values in self.pair_ratios.items()}
        self.limit = median(limit["lines_per_s"] for limit in limits)
        self.lost = sum(run.get("lost", 0) for run in runs)
        self.dup = sum(run.get("dup", 0) for run in runs)

    def _median(self, shipper, key, form):
        return shown(self.medians.get(shipper, {}).get(key), form)

    def _ratio(self, label):
        return shown(self.ratios.get(label), "%.2f")

    def _figures_of(self, shipper):
        return ", ".join("%s %s" % (label, self._median(shipper, key, form)) for key, label, form in self.figures)

    def print_tables(self):
        print("medians over %d round(s):" % self.args.rounds)
        for shipper in self.shippers:
            print("  %-7s: %s" % (shipper, self._figures_of(shipper)))
        if self.pair_ratios:
            print("ratios agent/rsyslog, pair by pair -> median:")
            for label, values in self.pair_ratios.items():
                print("  %-10s: %s -> %s" % (label, " ".join(shown(v, "%.2f") for v in values),
                                              shown(self.ratios[label], "%.2f")))
        if self.limits:
            print("redis-limit (redis-cli --pipe, LPUSH x50, %d values): %s l/s -> median %.0f"
                  % (self.args.lines, " ".join("%.0f" % limit["lines_per_s"] for limit in self.limits), self.limit))

    def line(self):
        """The one-line summary, printed last."""
        if self.args.mode == "burst":
            parts = ["%s %s l/s" % (name, self._median(name, "lines_per_s", "%.0f")) for name in self.shippers]
            if self.pair_ratios:
                parts += ["throughput ratio " + self._ratio("throughput"), "cpu ratio " + self._ratio("cpu"),
                          "agent peak RSS %s MiB" % self._median("agent", "peak_rss_mib", "%.0f")]
            else:
                only = self.shippers[0]
                parts += ["cpu %s s" % self._median(only, "cpu_s", "%.2f"),
                          "peak RSS %s MiB" % self._median(only, "peak_rss_mib", "%.0f")]
            parts += ["lost %d" % self.lost, "dup %d" % self.dup]
            if self.limit:
                parts.append("redis-limit %.0f l/s" % self.limit)
            return "burst: " + ", ".join(parts)
        if self.args.mode == "idle":
            head = "idle %gs" % self.args.seconds
        else:
            head = "steady %g l/s x %gs" % (self.args.rate, self.args.seconds)
        parts = ["%s %s" % (name, self._figures_of(name)) for name in self.shippers]
        if self.pair_ratios:
            parts.append("ratios " + ", ".join("%s %s" % (label, self._ratio(label)) for label in self.pair_ratios))
        if self.args.mode == "steady":
            parts.append("delivered %d/%d, lost %d, dup %d" % (sum(run["delivered"] for run in self.runs),
                                                               sum(run["expected"] for run in self.runs),
                                                               self.lost, self.dup))
        return head + ": " + "; ".join(parts)

    def as_json(self):
        return dict(medians=self.medians, ratios=self.ratios, pair_ratios=self.pair_ratios,
                    redis_limit_lines_per_s=self.limit, lost=self.lost, dup=self.dup)
