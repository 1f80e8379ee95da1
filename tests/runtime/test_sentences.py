"""Sentences that vary: words chosen by a condition inside `{...}`, shown as chosen."""
from rplang.runtime import load_policy_text

POLICY = '''
policy "Words"
currency USD
clause refunds: "Items are refunded; defective ones may be exchanged."
record Item:
  sku:       text
  defective: boolean "defective"
  price:     money
request:
  items: list of Item
outcomes:
  approve "APPROVED"
output refund: money total
rule refund_each for each item in items:
  cites refunds
  when item.price > 0.00
  then add item.price to refund
  because "Refund {item.sku}{if item.defective then "; it may be exchanged" else ""}{if item.price > 100.00
           then " (a large {item}, }" else ""}."
'''

REQUEST = {"items": [{"sku": "A", "defective": True, "price": "10.00"},
                     {"sku": "B", "defective": False, "price": "150.00"}]}


def test_the_words_chosen_by_each_element_are_in_its_sentence():
    decision = load_policy_text(POLICY).decide(REQUEST)
    sentences = [e["sentence"] for e in decision.explanation()]
    # the quoted words keep their spaces and their braces, which are text there
    assert sentences == ["Refund A; it may be exchanged.", "Refund B (a large {item}, }."]
    assert decision.outputs_json()["refund"] == "160.00"


def test_the_text_explanation_shows_the_words_chosen():
    text = load_policy_text(POLICY).decide(REQUEST).explain_text()
    assert "+  10.00  Refund A; it may be exchanged.   [refund_each]" in text
    assert "+ 150.00  Refund B (a large {item}, }.   [refund_each]" in text


def test_a_sentence_without_a_condition_is_unchanged():
    policy = load_policy_text(POLICY.replace('{if item.defective then "; it may be exchanged" else ""}', ""))
    assert policy.decide(REQUEST).explanation()[0]["sentence"] == "Refund A."


# ---- several clauses cited by one rule ---------------------------------------------------------

CITING = '''
policy "Citations"
currency USD
clause refunds:  "Items are refunded."
clause exchange: "Defective items may be exchanged."
request:
  price:     money
  defective: boolean
  late:      boolean
outcomes:
  refuse  "REFUSED" overrides all other rules
  approve "APPROVED"
output refund: money total
rule refund:
  cites refunds, exchange
  cites "the store's own words"
  when true
  then add price to refund
  because "refund {price}"
rule late:
  cites refunds,
        exchange
  when late
  then refuse
  because "too late"
'''


def test_an_entry_lists_every_clause_and_keeps_the_first_where_it_was():
    entry = load_policy_text(CITING).decide({"price": "5.00", "defective": False, "late": False}).explanation()[0]
    assert (entry["clause"], entry["cites"]) == ("refunds", "Items are refunded.")
    assert entry["clauses"] == [{"clause": "refunds", "cites": "Items are refunded."},
                                {"clause": "exchange", "cites": "Defective items may be exchanged."},
                                {"clause": None, "cites": "the store's own words"}]


def test_the_text_quotes_every_clause_applied():
    text = load_policy_text(CITING).decide({"price": "5.00", "defective": False, "late": False}).explain_text()
    assert text.endswith('Clauses applied:\n'
                         '  [refund] "Items are refunded."\n'
                         '  [refund] "Defective items may be exchanged."\n'
                         '  [refund] "the store\'s own words"')


def test_a_refusal_quotes_every_clause_it_cites():
    text = load_policy_text(CITING).decide({"price": "5.00", "defective": False, "late": True}).explain_text()
    assert text == ('REFUSED — 1 reason\n'
                    '1. late  "Items are refunded."\n'
                    '   "Defective items may be exchanged."\n'
                    '   too late\n'
                    'Nothing is refunded.')


def test_a_rule_with_one_clause_lists_it_alone():
    policy = load_policy_text(CITING.replace("cites refunds,\n        exchange", "cites refunds"))
    entry = policy.decide({"price": "5.00", "defective": False, "late": True}).explanation()[0]
    assert entry["clauses"] == [{"clause": "refunds", "cites": "Items are refunded."}]


def test_the_decision_schema_describes_the_clauses(tmp_path):
    import jsonschema

    from rplang.compiler.schema import decision_schema

    policy = load_policy_text(CITING)
    decision = policy.decide({"price": "5.00", "defective": False, "late": False})
    jsonschema.validate(decision.to_json(), decision_schema(policy.checked))


# ---- money in the request's currency -----------------------------------------------------------

PRICED = '''
policy "Currencies"
currency USD
currency by currency
clause refunds: "Items are refunded."
request:
  currency: optional text
  price:    money
outcomes:
  approve "APPROVED"
output refund: money total
rule refund:
  cites refunds
  when true
  then add price to refund
  because "refund {price}"
'''


def _explained(request: dict, locale: str = "en_US") -> str:
    return load_policy_text(PRICED).decide(request).explain_text(locale)


def test_money_is_shown_with_the_digits_of_the_request_currency():
    text = _explained({"currency": "JPY", "price": "148650"})
    assert text.startswith("APPROVED — refund 148,650 JPY\n")
    assert "+ 148,650  refund 148,650   [refund]" in text


def test_the_policy_currency_when_the_request_names_none():
    assert _explained({"price": "1890.5"}).startswith("APPROVED — refund 1,890.50 USD\n")


def test_three_decimals_for_a_currency_that_has_them():
    assert _explained({"currency": "KWD", "price": "12.5"}).startswith("APPROVED — refund 12.500 KWD\n")


def test_an_amount_with_more_digits_than_its_currency_is_shown_as_computed_and_said_so():
    text = _explained({"currency": "JPY", "price": "100.50"})
    assert text.startswith("APPROVED — refund 100.50 JPY\n")
    assert text.endswith("Note: JPY amounts have 0 decimal places; amounts with more are shown as the policy "
                         "computed them, not rounded.")


def test_a_locale_groups_and_marks_decimals_its_own_way():
    assert _explained({"currency": "EUR", "price": "1890.5"}, "de_DE").startswith("APPROVED — refund 1.890,50 EUR\n")


def test_the_decision_json_keeps_exact_amounts_and_its_sentences():
    decision = load_policy_text(PRICED).decide({"currency": "JPY", "price": "148650"})
    assert decision.outputs_json()["refund"] == "148650.00"
    assert decision.explanation()[0]["sentence"] == "refund 148,650.00"


def test_the_currency_field_must_be_a_text():
    import pytest

    from rplang.policy_lang.errors import PolicyError

    with pytest.raises(PolicyError) as error:
        load_policy_text(PRICED.replace("currency by currency", "currency by price"))
    assert "RPL030" in error.value.render() and "the currency must be a text of the request" in error.value.render()


def test_a_text_that_is_no_currency_code_falls_back_to_the_policy_currency():
    assert _explained({"currency": "yen", "price": "5"}).startswith("APPROVED — refund 5.00 USD\n")


def test_zero_is_never_shown_negative_and_equal_amounts_keep_their_own_digits():
    from rplang.runtime.money import MoneyFormat

    usd, yen = MoneyFormat("USD"), MoneyFormat("JPY")
    assert (usd.text("-0.00"), usd.text("0.00"), usd.text("-12.50")) == ("0.00", "0.00", "-12.50")
    assert (yen.text("12.50"), yen.text("12.5"), yen.text("12.00")) == ("12.50", "12.5", "12")
    assert MoneyFormat("JPY", "de_DE").text("1234567.00") == "1.234.567"
