#!/usr/bin/env python3
"""Runs every PromQL expression of a Grafana dashboard against a Prometheus server.

Usage: grafana_queries.py DASHBOARD.json PROMETHEUS_URL
The expressions are taken from the dashboard (every panel's targets, rows included);
each template variable is replaced by the value Grafana uses for "All" (its allValue),
as Grafana does. Prints one line per expression with its number of series, and exits 1
when one fails to evaluate or returns no data, naming it.
"""
import json
import sys
import urllib.error
import urllib.parse
import urllib.request


def targets(panels):
    for p in panels:
        yield from targets(p.get("panels", []))
        for t in p.get("targets", []):
            if t.get("expr"):
                yield p.get("title", "?"), t["expr"]


def main():
    dash_path, prom = sys.argv[1], sys.argv[2].rstrip("/")
    with open(dash_path, encoding="utf-8") as f:
        dash = json.load(f)
    values = {}
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            if "allValue" not in v:
                print(f"variable ${v['name']} has no allValue to test with")
                return 1
            values[v["name"]] = v["allValue"]
    exprs = list(targets(dash.get("panels", [])))
    if not exprs:
        print("the dashboard has no PromQL expression")
        return 1
    bad = 0
    # Longest names first, so $instance2 is not read as $instance.
    for title, expr in exprs:
        q = expr
        for name in sorted(values, key=len, reverse=True):
            q = q.replace("${" + name + "}", values[name]).replace("$" + name, values[name])
        url = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                res = json.load(r)
        except (urllib.error.URLError, ValueError) as e:
            print(f"NO DATA [{title}] {q}: {e}")
            bad += 1
            continue
        n = len(res.get("data", {}).get("result", [])) if res.get("status") == "success" else 0
        print(f"{'ok' if n else 'NO DATA'} {n} series [{title}] {q}")
        bad += n == 0
    print(f"{len(exprs) - bad} of {len(exprs)} expressions returned data")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
