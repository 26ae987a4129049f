"""The one result table: Markdown, printed and appended to bench/RESULTS.md."""

COLUMNS = ["scenario", "conc", "system", "req/s", "p50 ms", "p99 ms", "req/s vs ref", "p99 vs ref",
           "added p50 / p99 ms", "CPU µs/req", "CPU vs ref", "X-Cache seen", "notes"]


class Row:
    def __init__(self, scenario, conc, system, **cells):
        self.cells = {"scenario": scenario, "conc": str(conc), "system": system}
        self.cells.update(cells)

    def values(self):
        return [str(self.cells.get(c, "") or "") for c in COLUMNS]


def render(rows):
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join(" --- " for _ in COLUMNS) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(v.replace("|", "/") for v in row.values()) + " |")
    return "\n".join(lines)
