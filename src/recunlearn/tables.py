"""Tables of the paper, ours beside the published numbers, written as Markdown, LaTeX and CSV."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .data import write_atomic

NOTES_6_2 = {
    "ml-1m": "the paper prints 6,940 users; MovieLens-1M has 6,040 (its own 4.47% density needs 6,040)",
    "ml-10m": "the paper's 71,567 users / 10,681 items are id ranges / the catalogue; 69,878 users rated "
              "10,677 items",
}


def _latex(df: pd.DataFrame, caption: str) -> str:
    def esc(x) -> str:
        s = str(x)
        for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#")):
            s = s.replace(a, b)
        return s

    cols = "l" + "r" * (len(df.columns) - 1)
    lines = [r"\begin{table}[t]", r"\centering", f"\\caption{{{esc(caption)}}}", f"\\begin{{tabular}}{{{cols}}}",
             r"\toprule", " & ".join(esc(c) for c in df.columns) + r" \\", r"\midrule"]
    lines += [" & ".join(esc(v) for v in row) + r" \\" for row in df.astype(str).itertuples(index=False)]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    return "\n".join(lines)


def write_table(df: pd.DataFrame, stem: str | Path, title: str, notes: list[str] | None = None) -> None:
    """``<stem>.md`` (title, table, notes), ``<stem>.tex`` (booktabs) and ``<stem>.csv``."""
    stem = str(stem)
    md = [f"# {title}", "", df.to_markdown(index=False), ""]
    if notes:
        md += ["Notes:", ""] + [f"- {n}" for n in notes] + [""]
    write_atomic(stem + ".md", "\n".join(md))
    write_atomic(stem + ".tex", _latex(df, title))
    write_atomic(stem + ".csv", df.to_csv(index=False))


def table_6_2(stats_files: list[str | Path], paper_csv: str | Path, stem: str | Path) -> pd.DataFrame:
    """Dataset statistics (Table 6.2): ours beside the paper's, with the per-split counts."""
    paper = pd.read_csv(paper_csv).set_index("dataset")
    rows, notes = [], []
    for path in stats_files:
        s = json.loads(Path(path).read_text())
        name = s["dataset"]
        p = paper.loc[name] if name in paper.index else None

        def theirs(col, fmt="{:,}"):
            return fmt.format(p[col]) if p is not None else "-"

        rows.append({
            "dataset": name,
            "users": f"{s['users']:,}", "users (paper)": theirs("users", "{:,.0f}"),
            "items": f"{s['items']:,}", "items (paper)": theirs("items", "{:,.0f}"),
            "interactions": f"{s['interactions']:,}", "interactions (paper)": theirs("interactions", "{:,.0f}"),
            "density": f"{s['density']:.4f}", "density (paper)": theirs("density", "{:.4f}"),
            "train": f"{s['train']['interactions']:,}", "valid": f"{s['valid']['interactions']:,}",
            "test": f"{s['test']['interactions']:,}",
        })
        if p is None:
            notes.append(f"{name}: not in the paper")
        else:
            diffs = [c for c in ("users", "items", "interactions") if int(s[c]) != int(p[c])]
            if diffs:
                why = NOTES_6_2.get(name, "")
                notes.append(f"{name}: differs from the paper in {', '.join(diffs)}" + (f" ({why})" if why else ""))
            else:
                notes.append(f"{name}: users, items and interactions match the paper")
    df = pd.DataFrame(rows)
    write_table(df, stem, "Table 6.2: dataset statistics, ours beside the paper's", notes)
    return df
