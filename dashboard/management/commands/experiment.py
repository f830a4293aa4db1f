"""Operate A/B experiments from the shell: list, create, start, stop, results, ship.

    manage.py experiment list --catalog uk-gifts
    manage.py experiment create --catalog uk-gifts --name "Home list" --surface recommendations \\
        --variant A=50:fusion=Default --variant B=50:fusion="More EASE" --control A --metric ctr \\
        --baseline 0.05 --mde 0.05 [--guardrail conversion] [--holdout 0] [--attribution-hours 24]
    manage.py experiment start|stop|results --catalog uk-gifts --key home-list
    manage.py experiment ship --catalog uk-gifts --key home-list --variant B [--override-reason "…"]

A variant is ``NAME=SHARE`` with optional ``:fusion=<config name>``, ``:version=<number>`` and
``:search=<settings name>``. Actions run as ``--user`` (default: the system) and are audited.
"""
from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.models import Catalog, Experiment, FusionConfig, ModelVersion, SearchSettings
from dashboard.services.experiments import (
    ExperimentError,
    VariantSpec,
    experiment_create,
    experiment_results,
    experiment_ship,
    experiment_start,
    experiment_stop,
)


class Command(BaseCommand):
    help = "List, create, start, stop, read the results of, or ship an A/B experiment."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["list", "create", "start", "stop", "results", "ship"])
        parser.add_argument("--catalog", required=True, help="The catalog's slug.")
        parser.add_argument("--key", default="", help="The experiment's key (start, stop, results, ship).")
        parser.add_argument("--user", default="", help="Act as this user (recorded in the audit).")
        parser.add_argument("--name", default="")
        parser.add_argument("--surface", default="recommendations")
        parser.add_argument("--variant", action="append", default=[],
                            help="create: NAME=SHARE[:fusion=CONFIG][:version=N][:search=SETTINGS]; ship: NAME.")
        parser.add_argument("--control", default="", help="The control variant's name (default: the first).")
        parser.add_argument("--metric", default="ctr", help="ctr, conversion or revenue.")
        parser.add_argument("--guardrail", action="append", default=[])
        parser.add_argument("--holdout", type=float, default=0.0, help="Hold-out share in percent.")
        parser.add_argument("--baseline", type=float, default=0.05, help="The control's expected metric value.")
        parser.add_argument("--baseline-sd", type=float, default=None, help="Revenue: standard deviation per shopper.")
        parser.add_argument("--mde", type=float, default=0.05, help="Minimum detectable relative effect (0.05 = 5 %%).")
        parser.add_argument("--attribution-hours", type=int, default=24)
        parser.add_argument("--override-reason", default=None, help="ship: an admin's reason to pass a gate refusal.")

    def handle(self, *args: Any, **opts: Any) -> None:
        catalog = Catalog.objects.filter(slug=opts["catalog"]).first()
        if catalog is None:
            raise CommandError(f"no catalog {opts['catalog']!r}; see manage.py shell or the dashboard for slugs")
        user = None
        if opts["user"]:
            user = get_user_model().objects.filter(username=opts["user"]).first()
            if user is None:
                raise CommandError(f"no user {opts['user']!r}")
        try:
            getattr(self, f"_{opts['action']}")(catalog, user, opts)
        except ExperimentError as exc:
            raise CommandError(str(exc)) from None

    def _experiment(self, catalog: Catalog, opts: dict[str, Any]) -> Experiment:
        exp = Experiment.objects.filter(catalog=catalog, key=opts["key"]).first()
        if exp is None:
            raise CommandError(f"no experiment with key {opts['key']!r} in {catalog.slug}; see `experiment list`")
        return exp

    def _list(self, catalog: Catalog, user: Any, opts: dict[str, Any]) -> None:
        for e in Experiment.objects.filter(catalog=catalog).prefetch_related("variants"):
            shares = ", ".join(f"{v.name} {v.allocation:g} %" for v in e.variants.all())
            self.stdout.write(f"{e.key}\t{e.state}\t{e.surface}\t{e.primary_metric}\t{shares}\t"
                              f"{e.sample_size} per variant")

    def _variant(self, catalog: Catalog, raw: str, control: str) -> VariantSpec:
        head, *extras = raw.split(":")
        name, sep, share = head.partition("=")
        if not sep:
            raise CommandError(f"--variant {raw!r}: write NAME=SHARE, e.g. B=50:fusion=More EASE")
        found: dict[str, Any] = {}
        for extra in extras:
            kind, _sep, value = extra.partition("=")
            if kind == "fusion":
                found["fusion_config"] = FusionConfig.objects.filter(catalog=catalog, name=value).first()
            elif kind == "version":
                found["model_version"] = ModelVersion.objects.filter(catalog=catalog, number=int(value)).first()
            elif kind == "search":
                found["search_settings"] = SearchSettings.objects.filter(catalog=catalog, name=value).first()
            else:
                raise CommandError(f"--variant {raw!r}: {kind!r} is not fusion, version or search")
            if found[list(found)[-1]] is None:
                raise CommandError(f"--variant {raw!r}: no {kind} {value!r} in {catalog.slug}")
        try:
            allocation = float(share)
        except ValueError:
            raise CommandError(f"--variant {raw!r}: the share {share!r} is not a number") from None
        return VariantSpec(name=name, allocation=allocation, is_control=name == control, **found)

    def _create(self, catalog: Catalog, user: Any, opts: dict[str, Any]) -> None:
        raw = opts["variant"]
        control = opts["control"] or (raw[0].split("=")[0] if raw else "")
        exp = experiment_create(
            catalog=catalog, name=opts["name"], key=opts["key"], surface=opts["surface"],
            variants=[self._variant(catalog, v, control) for v in raw], by=user, primary_metric=opts["metric"],
            guardrails=opts["guardrail"], holdout_percent=opts["holdout"], baseline=opts["baseline"],
            baseline_sd=opts["baseline_sd"], mde=opts["mde"], attribution_hours=opts["attribution_hours"])
        self.stdout.write(f"created {exp.key} (draft): {exp.sample_size} shoppers per variant needed; "
                          f"start it with `experiment start --catalog {catalog.slug} --key {exp.key}`")

    def _start(self, catalog: Catalog, user: Any, opts: dict[str, Any]) -> None:
        exp = experiment_start(experiment=self._experiment(catalog, opts), by=user)
        self.stdout.write(f"{exp.key} is running")

    def _stop(self, catalog: Catalog, user: Any, opts: dict[str, Any]) -> None:
        exp = experiment_stop(experiment=self._experiment(catalog, opts), by=user)
        self.stdout.write(f"{exp.key} is stopped")

    def _results(self, catalog: Catalog, user: Any, opts: dict[str, Any]) -> None:
        results = experiment_results(experiment=self._experiment(catalog, opts))
        self.stdout.write("variant\tshoppers\tlists\tctr\tconversion\trevenue/shopper")
        for r in results.variants:
            m = r.metrics
            self.stdout.write(f"{r.variant.name}\t{r.shoppers}\t{r.lists}\t{m['ctr'].value:.4f}\t"
                              f"{m['conversion'].value:.4f}\t{m['revenue'].value:.2f}")
        self.stdout.write(results.verdict)

    def _ship(self, catalog: Catalog, user: Any, opts: dict[str, Any]) -> None:
        exp = self._experiment(catalog, opts)
        name = (opts["variant"] or [""])[0]
        variant = exp.variants.filter(name=name).first()
        if variant is None:
            raise CommandError(f"--variant: no variant {name!r} in {exp.key}; one of "
                               f"{', '.join(exp.variants.values_list('name', flat=True))}")
        experiment_ship(experiment=exp, variant=variant, by=user, override_reason=opts["override_reason"])
        self.stdout.write(f"{exp.key}: variant {variant.name} shipped")
