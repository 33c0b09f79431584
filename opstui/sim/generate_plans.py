"""The seeded generator's workflow plans: the steps of a pipeline, before any run of it.

Split from :mod:`opstui.sim.generate` (the pipelines and their history) along its seam; the plan
draws from the pipeline's own generator, in the same order as before the split, so the tenant a seed
gives is unchanged.
"""

from __future__ import annotations

import random
from typing import Any

from opstui.sim.common import Doc, hex_id, is_gate
from opstui.sim.names import PEOPLE

__all__ = ["workflow_plan"]


def workflow_plan(
    seed: int, pid: str, kind: str, subject: str, env: str, gate: bool, rng: random.Random
) -> list[Doc]:
    """2 to 8 steps in a realistic order; a gate, when there is one, comes before the deploy."""
    head: list[tuple[str, str, dict[str, Any]]]
    middle: list[tuple[str, str, dict[str, Any]]]
    deploy: tuple[str, str, dict[str, Any]]
    if kind == "sdlc":
        build_tool = rng.choice(["jenkins", "github-actions", "gitlab-ci"])
        head = [
            ("Checkout source", "git", {"repository": f"acme/{subject}", "branch": "main"}),
            ("Build", build_tool, {"jobName": f"{subject}-build"}),
        ]
        middle = [
            ("Unit tests", build_tool, {"jobName": f"{subject}-unit-tests"}),
            ("SonarQube scan", "sonar", {"projectKey": f"acme:{subject}"}),
            ("Security scan", "snyk", {"severityThreshold": "high"}),
            (
                "Push image",
                "docker-push",
                {"repository": f"registry.example.com/acme/{subject}"},
            ),
            ("Provision infrastructure", "terraform", {"workspace": f"{subject}-{env}"}),
            ("Deploy to staging", "argo", {"application": f"{subject}-staging"}),
            ("Smoke tests", rng.choice(["selenium", "jmeter"]), {"suite": "smoke"}),
        ]
        deploy = (
            f"Deploy to {env}",
            rng.choice(["argo", "helm"]),
            {"release": f"{subject}-{env}"},
        )
    elif kind == "sfdc":
        head = [("Retrieve metadata", "sfdc-configurator", {"org": "dev-sandbox"})]
        middle = [
            ("Static analysis", "pmd", {"ruleset": "apex-quickstart"}),
            ("Validate package", "sfdc-configurator", {"checkOnly": True}),
            ("Run Apex tests", "sfdc-configurator", {"testLevel": "RunLocalTests"}),
            ("Backup org", "sfdc-configurator", {"org": "production"}),
        ]
        deploy = (f"Deploy to {env} org", "sfdc-configurator", {"org": env})
    else:
        head = [
            ("Pull training data", "aws-s3", {"bucket": "acme-ml-data"}),
            ("Train model", "databricks", {"cluster": "ml-gpu"}),
        ]
        middle = [
            ("Evaluate model", "python", {"script": "evaluate.py"}),
            ("Register model", "mlflow", {"model": subject}),
        ]
        deploy = ("Deploy endpoint", "sagemaker", {"endpoint": f"{subject}-{env}"})

    chosen = [step for step in middle if rng.random() < 0.45]
    tail: list[tuple[str, str, dict[str, Any]]] = []
    if gate:
        tail.append(_gate(subject, env, rng))
        tail.append(deploy)
    elif rng.random() < 0.6:
        tail.append(deploy)
    if kind == "sdlc" and rng.random() < 0.3:
        tail.append(("Notify #releases", "slack", {"channel": "#releases"}))
    while len(head) + len(chosen) + len(tail) > 8:
        chosen.pop(rng.randrange(len(chosen)))
    specs = [*head, *chosen, *tail]
    if len(specs) < 2:
        specs.append(deploy)
    plan = [_step(pid, i, *spec, seed=seed) for i, spec in enumerate(specs)]
    switchable = [i for i in range(2, len(plan)) if not is_gate(plan[i])]
    for i in switchable:
        if rng.random() < 0.05:
            plan[i]["active"] = False
    return plan


def _gate(subject: str, env: str, rng: random.Random) -> tuple[str, str, dict[str, Any]]:
    config: dict[str, Any] = {}
    if rng.random() < 0.85:
        name = rng.choice(["Approve release", "Approve production deploy", "Release sign-off"])
        if rng.random() < 0.8:
            approvers = rng.sample([p.email for p in PEOPLE], rng.randint(1, 3))
            config = {
                "message": f"Approve release of {subject} to {env}?",
                "approvers": approvers,
            }
        return name, "approval", config
    if rng.random() < 0.7:
        config = {"message": f"Confirm the change window for {subject} is open"}
    return "Confirm change window", "user-action", config


def _step(
    pipeline_id: str, index: int, name: str, tool: str, config: dict[str, Any], seed: int
) -> Doc:
    return {
        "_id": hex_id(seed, pipeline_id, "step", index),
        "name": name,
        "active": True,
        "tool": {"tool_identifier": tool, "configuration": config},
    }
