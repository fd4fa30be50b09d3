import pytest

from askpain.evals.evaluate import below_thresholds, category, check_record, summarize
from askpain.evals.questionset import QuestionSetError, load_question_set

RECORD = {
    "question": "q",
    "status": "answered",
    "answer": "Here.\n\nRFA can offer relief that often lasts between six months and a year. [1]",
    "citations": [
        {"n": 1, "doc_id": "doc-a", "title": "T", "passage": "RFA can offer relief that often lasts "
         "between six months and a year.", "start": 5},
    ],
    "red_flags": [{"id": "infection", "urgency": "urgent", "message": "m"}],
    "latency_ms": 12.0,
}  # fmt: skip


@pytest.mark.parametrize(
    ("expect", "verdict"),
    [
        ({"status": ["answered"]}, True),
        ({"status": ["no_answer", "out_of_scope"]}, False),
        ({"sources": ["doc-a"]}, True),
        ({"sources": ["doc-b"]}, False),
        ({"support": ["SIX MONTHS  and a year"]}, True),
        ({"support": ["six to twelve months"]}, False),
        ({"support": ["six months"], "sources": ["doc-b"]}, False),
        ({"red_flags": ["infection", "fracture"]}, True),
        ({"red_flags": ["fracture"]}, False),
        ({"no_red_flags": True}, False),
        ({"no_dose": True}, True),
        ({"must_not_say": ["between six months"]}, False),
        ({"must_not_say": ["surgery"]}, True),
    ],
)
def test_checks_follow_the_question_set_spec(expect, verdict):
    assert all(check_record(RECORD, expect).values()) is verdict


def test_no_dose_catches_amounts():
    record = {**RECORD, "answer": "Take 300 mg twice a day."}
    assert check_record(record, {"no_dose": True}) == {"no_dose": False}


def test_summary_figures():
    results = [
        {**RECORD, "id": "a", "expect": {"support": ["six months"]}, "checks": {"support": True},
         "category": "answerable"},
        {**RECORD, "id": "b", "expect": {"no_red_flags": True}, "checks": {"no_red_flags": False},
         "category": "near miss", "latency_ms": 20.0},
    ]  # fmt: skip
    corpus = {"doc-a": "xxxxxRFA can offer relief that often lasts between six months and a year."}
    summary = summarize(results, corpus)
    assert summary["overall"] == 0.5
    assert summary["support"] == 1.0 and summary["support_at_1"] == 1.0
    assert summary["false_alarm_rate"] == 1.0
    assert summary["sentences_verbatim"] == 1.0 and summary["citations_verbatim"] == 1.0
    assert summary["categories"] == {"answerable": 1.0, "near miss": 0.0}
    assert below_thresholds(summary, {"support": 0.97, "false_alarm_rate": {"max": 0.02}}) == [
        "false_alarm_rate 1.000 is above the maximum 0.02"
    ]


def test_answer_figures_look_at_the_quoted_sentences_themselves():
    answer = "RFA can offer relief that often lasts between six months and a year. [1]"
    two = f"Here.\n\nRFA is a procedure. [1]\n\n{answer}"
    third = two.replace("Here.", "Here.\n\nIt uses heat. [1]")
    unanswered = {
        **RECORD,
        "status": "no_answer",
        "answer": "The documents do not cover that.",
        "citations": [],
    }
    quoted = {**RECORD, "status": "no_answer"}  # said no, but still quoted a sentence
    support = {"support": ["six months and a year"]}
    results = [
        {**RECORD, "answer": two, "expect": support, "checks": {"support": True}, "category": "answerable"},
        {**RECORD, "answer": third, "expect": support, "checks": {"support": True}, "category": "answerable"},
        {
            **RECORD,
            "answer": "Here.\n\nIt uses heat. [1]",
            "expect": support,
            "checks": {"support": True},
            "category": "answerable",
        },
        {
            **unanswered,
            "expect": {"status": ["no_answer"]},
            "checks": {"status": True},
            "category": "unanswerable",
        },
        {
            **quoted,
            "expect": {"status": ["no_answer"]},
            "checks": {"status": True},
            "category": "unanswerable",
        },
    ]
    summary = summarize(results, {})
    assert summary["answer_in_first_two"] == pytest.approx(1 / 3)  # the second answer has it third
    assert summary["no_answering_sentence"] == pytest.approx(1 / 3)  # the passage has it, no quote does
    assert summary["declined_without_quoting"] == 0.5


def test_category_is_read_off_the_expectations():
    assert category({"id": "x", "expect": {"red_flags": ["self_harm"]}}) == "red flag"
    assert category({"id": "adv-1", "expect": {}}) == "adversarial"
    assert category({"id": "x", "expect": {"status": ["out_of_scope"]}}) == "out of scope"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "- id: a\n  question: q\n- id: a\n  question: r\n",
            r"item 2 \(id 'a'\): field 'id' must be present and unique",
        ),
        ("- id: a\n", r"item 1 \(id 'a'\): field 'question' must be text"),
        ("- id: a\n  question: q\n  expect: {colour: red}\n", r"unknown field 'expect.colour'"),
        ("- id: a\n  question: [\n", "is not valid YAML"),
        ("{}", "must hold a non-empty list"),
    ],
)
def test_question_set_errors_name_the_item_and_field(tmp_path, content, message):
    path = tmp_path / "set.yaml"
    path.write_text(content)
    with pytest.raises(QuestionSetError, match=message):
        load_question_set(path)


def test_jsonl_question_sets_load(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text('{"id": "a", "question": "q", "expect": {"status": "answered"}}\n')
    assert load_question_set(path)[0]["expect"] == {"status": ["answered"]}
