"""Chart data: one bar per option, never two options merged under one label."""

from __future__ import annotations

from inferplan.web.render import chart_labels, plan_chart_data

# two AWS options whose names agree on their first 36 characters
A = "aws-us-east-1 llama-3.1-70b on 8x h100-sxm-80gb (vllm, bf16)"
B = "aws-us-east-1 llama-3.1-70b on 8x h100-sxm-80gb (sglang, fp8)"


def test_labels_are_short_and_distinct() -> None:
    labels = chart_labels([A, B, "short"], 36)
    assert A[:35] == B[:35]  # the old shortening gave both the same label
    assert len(set(labels)) == 3
    assert all(len(x) <= 36 for x in labels)
    assert labels[2] == "short"
    # many equal names stay distinct too
    assert len(set(chart_labels(["same"] * 12, 10))) == 12


def test_plan_npv_chart_has_one_category_per_option() -> None:
    result = {"recommendation": {"option": A, "npv_usd": 100.0},
              "options": [{"name": A, "npv_usd": 100.0, "kind": "cloud"},
                          {"name": B, "npv_usd": 250.0, "kind": "cloud"}]}
    npv = plan_chart_data(result)["npv"]
    assert npv["names"] == [A, B] and npv["values"] == [100.0, 250.0]
    assert len(set(npv["labels"])) == 2  # two bars, not one bar of 350
