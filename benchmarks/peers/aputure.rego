# The Aputure decision in Rego (evaluated by regorus, through the opa-eval package).
#
# input (benchmarks/peers/marshalling.py, plain()):
#   request_day, delivery_day: day numbers       kind: "return" | "exchange"
#   proof: "valid" | "missing" | "suspect"        items: price in integer cents
# query: data.aputure.decision
package aputure

import rego.v1

misuse_causes := {"unauthorized_use", "modification", "moisture", "foreign_object",
	"improper_installation", "improper_operation"}

external_causes := {"fire", "flood", "high_wind", "lightning"}

completeness := ["accessories_complete", "manuals_included", "warranty_card_blank",
	"packing_material", "original_box", "upc_intact"]

# ---- refusals: every one that applies is reported

reasons contains "window" if input.request_day - input.delivery_day > 14

reasons contains "proof" if input.proof != "valid"

reasons contains "misuse" if {
	some item in input.items
	item.returned
	item.damage_cause in misuse_causes
}

reasons contains "external_damage" if {
	some item in input.items
	item.returned
	item.damage_cause in external_causes
}

reasons contains "tampering" if {
	some item in input.items
	item.returned
	item.labels_tampered
}

reasons contains "condition" if {
	some item in input.items
	item.returned
	item.condition == "used"
}

reasons contains "condition" if {
	some item in input.items
	item.returned
	count(item.marks) > 0
}

# ---- restocking fee: 15% of each returned item lacking a completeness fact, half-up to the cent

incomplete(item) if {
	some fact in completeness
	item[fact] == false
}

fees := [floor(((item.price * 15) + 50) / 100) |
	some item in input.items
	item.returned
	incomplete(item)
]

# ---- money

returned_paid_skus := {item.sku |
	some item in input.items
	item.returned
	not item.free
}

paid_returned := sum([item.price |
	some item in input.items
	item.returned
	not item.free
])

kept_free_deducted(item) if {
	item.free
	not item.returned
	item.bundled_with == null
	count(returned_paid_skus) > 0
}

kept_free_deducted(item) if {
	item.free
	not item.returned
	item.bundled_with in returned_paid_skus
}

deduction := sum([item.price |
	some item in input.items
	kept_free_deducted(item)
])

# ---- the decision: refuse over approve_with_fee over approve

outcome := "refuse" if {
	count(reasons) > 0
} else := "approve_with_fee" if {
	count(fees) > 0
} else := "approve"

restocking_fee := 0 if outcome == "refuse" else := sum(fees)

free_items_deduction := 0 if outcome == "refuse" else := 0 if input.kind == "exchange" else := deduction

refund := 0 if outcome == "refuse" else := 0 if input.kind == "exchange" else := max([0, (paid_returned - deduction) - sum(fees)])

decision := {
	"outcome": outcome,
	"reasons": reasons,
	"refund": refund,
	"restocking_fee": restocking_fee,
	"free_items_deduction": free_items_deduction,
}
