"""The askpain command line: a thin shell that turns domain errors into plain messages."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable

from askpain.errors import AskpainError, IndexCorruptError, IndexUnusableError
from askpain.settings import REPO_ROOT, Settings


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        corpus_dir=args.corpus, index_dir=args.index, model_path=args.model, chunk_chars=args.chunk_chars
    )


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _embedder(settings: Settings):
    from askpain.retrieval.embedding import Embedder

    return Embedder(settings.resolved_model_path())


def open_retriever(settings: Settings, progress: bool = True):
    """The main command's way in: a usable index, rebuilt first when missing, stale or damaged."""
    from askpain.retrieval.hybrid import HybridRetriever
    from askpain.retrieval.store import open_index

    embedder = _embedder(settings)
    loaded = open_index(
        settings,
        lambda: embedder,
        on_rebuild=lambda reason: _say(f"Rebuilding the index: {reason}"),
        progress=progress,
    )
    return HybridRetriever(loaded.passages, loaded.vectors, embedder)


def cmd_index(args: argparse.Namespace) -> int:
    from askpain.retrieval.store import build_index, load_index

    settings = _settings(args)
    if args.if_needed:
        try:
            load_index(settings)
            _say(f"The index in {settings.index_dir} is up to date.")
            return 0
        except IndexUnusableError as exc:
            _say(f"Building the index: {exc}")
    report = build_index(settings, _embedder(settings), progress=not args.quiet)
    print(
        f"Indexed {report.documents} documents into {report.passages} passages "
        f"({report.embedded} embedded, {report.reused} reused) with {report.model} "
        f"in {report.seconds:.1f} s -> {settings.index_dir}"
    )
    print(f"Question bank: {report.questions} questions tied to their sentences.")
    if report.unasked:
        print(f"No bank question points into {len(report.unasked)} section(s) (see corpus/questions/):")
        for place in report.unasked:
            print(f"  - {place}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    settings = _settings(args)
    retriever = open_retriever(settings, progress=not args.json)
    hits = retriever.search(args.question[: settings.max_message_chars], k=args.k or settings.top_k)
    if args.json:
        print(json.dumps([h.to_json() for h in hits], ensure_ascii=False, indent=2))
        return 0
    if not hits:
        print("No passages matched. Try other words.")
    for rank, hit in enumerate(hits, start=1):
        p = hit.passage
        print(f"{rank}. {p.doc_id} — {p.section or '(introduction)'}  [{p.chunk_id}]")
        print(
            f"   fused {hit.fused_score:.4f} | dense {hit.dense_score:.3f} (#{hit.dense_rank or '-'})"
            f" | lexical {hit.lexical_score:.2f} (#{hit.lexical_rank or '-'})"
        )
        print(f"   {p.text}\n")
    return 0


def _open_pipeline(settings: Settings):
    from askpain.answer.pipeline import Askpain

    return Askpain.open(settings, on_rebuild=lambda reason: _say(f"Rebuilding the index: {reason}"))


def format_answer(answer) -> str:
    """The answer for a person in a terminal: the text, then the quoted sources."""
    lines = [answer.answer, ""]
    if answer.citations:
        lines.append("Sources:")
        for c in answer.citations:
            p = c.passage
            lines.append(f"[{c.n}] {p.title} — {p.section or 'Introduction'}")
            lines.append(f"    “{p.text}”")
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace) -> int:
    pipeline = _open_pipeline(_settings(args))
    answer = pipeline.ask(args.question)
    if args.json:
        record = answer.to_record()
        if args.trace:
            record["trace"] = answer.trace
        print(json.dumps(record, ensure_ascii=False, indent=2))
    else:
        print(format_answer(answer))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from pathlib import Path

    import yaml
    from tqdm import tqdm

    from askpain.evals.evaluate import below_thresholds, evaluate, summarize
    from askpain.evals.questionset import load_question_set
    from askpain.evals.report import FIGURES, format_figure, write_report
    from askpain.ingest.corpus import load_corpus

    settings = _settings(args)
    items = load_question_set(Path(args.file))
    pipeline = _open_pipeline(settings)
    corpus = {d.doc_id: d.text for d in load_corpus(settings.corpus_dir)}

    def bar(label: str):
        return lambda it: tqdm(it, desc=label, unit="q", file=sys.stderr, disable=args.quiet)

    results = evaluate(items, lambda q: pipeline.ask(q).to_record(), bar("askpain"))
    summary = summarize(results, corpus)
    baseline = None
    if args.baseline:
        from askpain.evals.baseline import LangChainBaseline

        recipe = LangChainBaseline(settings, pipeline.embedder)
        baseline = summarize(evaluate(items, recipe.ask, bar("baseline")), corpus)
    thresholds_path = Path(args.thresholds)
    thresholds = yaml.safe_load(thresholds_path.read_text()) if thresholds_path.exists() else {}
    failures = below_thresholds(summary, thresholds or {})

    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            for r in results:
                record = {k: v for k, v in r.items() if k not in ("expect", "category")}
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    width = max(len(label) for _, label, _ in FIGURES)
    print(f"{summary['items']} items from {args.file}")
    print(f"{'':{width}}  {'askpain':>10}" + (f"  {'baseline':>10}" if baseline else ""))
    for key, label, kind in FIGURES:
        row = f"{label:{width}}  {format_figure(summary.get(key), kind):>10}"
        if baseline:
            row += f"  {format_figure(baseline.get(key), kind):>10}"
        print(row)
    print("pass rate per check: " + ", ".join(f"{k} {v:.1%}" for k, v in summary["checks"].items()))
    print("pass rate per category: " + ", ".join(f"{k} {v:.1%}" for k, v in summary["categories"].items()))
    if args.report:
        path = write_report(Path(args.report), args.file, summary, results, failures, baseline)
        print(f"report: {path}")
    for failure in failures:
        print(f"BELOW THRESHOLD: {failure}")
    return 1 if failures else 0


def cmd_status(args: argparse.Namespace) -> int:
    from askpain.retrieval.store import check_fresh, read_manifest

    settings = _settings(args)
    manifest = read_manifest(settings.index_dir)
    try:
        check_fresh(manifest, settings)
        state = "up to date"
    except IndexCorruptError as exc:
        state = f"damaged: {exc}"
    except IndexUnusableError as exc:
        state = f"stale: {exc}"
    status = {
        "index": str(settings.index_dir),
        "documents": len(manifest.get("documents", [])),
        "passages": manifest.get("passage_count"),
        "model": manifest["model"].get("name"),
        "built_at": manifest.get("built_at"),
        "state": state,
    }
    print(json.dumps(status, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in status.items()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="askpain", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--corpus", help="corpus folder (ASKPAIN_CORPUS_DIR)")
    common.add_argument("--index", help="index folder (ASKPAIN_INDEX_DIR)")
    common.add_argument("--model", help="local sentence-transformers model folder (ASKPAIN_MODEL_PATH)")
    common.add_argument("--chunk-chars", type=int, help="passage size in characters (ASKPAIN_CHUNK_CHARS)")
    sub = parser.add_subparsers(dest="command", required=True)

    index = sub.add_parser("index", parents=[common], help="build the search index from the corpus")
    index.add_argument("--if-needed", action="store_true", help="only when missing, stale or damaged")
    index.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    index.set_defaults(run=cmd_index)

    search = sub.add_parser("search", parents=[common], help="show the passages that best match a question")
    search.add_argument("question")
    search.add_argument("-k", type=int, help="how many passages (default 5)")
    search.add_argument("--json", action="store_true", help="print a JSON list, best first")
    search.set_defaults(run=cmd_search)

    ask = sub.add_parser("ask", parents=[common], help="answer a question from the clinic's documents")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the answer record (answer.schema.json)")
    ask.add_argument("--trace", action="store_true", help="with --json: add the guardrail/retrieval trace")
    ask.set_defaults(run=cmd_ask)

    evals = sub.add_parser("eval", parents=[common], help="run a question set and measure the answers")
    evals.add_argument("file", help="question set, YAML or JSON Lines (spec/question-set.md)")
    evals.add_argument("--out", help="write one answer record per line (JSON Lines)")
    evals.add_argument("--report", help="write report.html into this folder")
    evals.add_argument("--baseline", action="store_true", help="also run the textbook LangChain recipe")
    evals.add_argument(
        "--thresholds",
        default=str(REPO_ROOT / "evals" / "thresholds.yaml"),
        help="minimum rates; exit 1 when one is missed (default evals/thresholds.yaml)",
    )
    evals.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    evals.set_defaults(run=cmd_eval)

    status = sub.add_parser("status", parents=[common], help="describe the index and whether it is stale")
    status.add_argument("--json", action="store_true")
    status.set_defaults(run=cmd_status)
    return parser


def main(argv: list[str] | None = None) -> int:
    from askpain.guard.hygiene import safe_text

    for stream in (sys.stdout, sys.stderr):  # never a traceback for a character a terminal lacks
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    args = build_parser().parse_args(argv)
    for name, value in vars(args).items():  # invalid UTF-8 in argv arrives as lone surrogates
        if isinstance(value, str):
            setattr(args, name, safe_text(value))
    run: Callable[[argparse.Namespace], int] = args.run
    began = time.perf_counter()
    try:
        return run(args)
    except AskpainError as exc:
        _say(f"askpain: {exc}")
        return 2
    except KeyboardInterrupt:
        _say(f"askpain: interrupted after {time.perf_counter() - began:.1f} s")
        return 130
