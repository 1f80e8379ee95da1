# The Aputure decision in Rego, lean: the returned items gathered once, completeness tested
# field by field, the order's refusals in one comprehension, the amounts only when nothing refuses.
# Same input as aputure.rego (marshalling.py, plain()); query: data.aputure_lean.decision
package aputure_lean

import rego.v1

returned := [item | some item in input.items; item.returned]

item_reasons contains "misuse" if {
	some item in returned
	item.damage_cause in {"unauthorized_use", "modification", "moisture", "foreign_object",
		"improper_installation", "improper_operation"}
}

item_reasons contains "external_damage" if {
	some item in returned
	item.damage_cause in {"fire", "flood", "high_wind", "lightning"}
}

item_reasons contains "tampering" if {
	some item in returned
	item.labels_tampered
}

item_reasons contains "condition" if {
	some item in returned
	item.condition == "used"
}

item_reasons contains "condition" if {
	some item in returned
	count(item.marks) > 0
}

order_reasons := {r |
	some r, applies in {
		"window": input.request_day - input.delivery_day > 14,
		"proof": input.proof != "valid",
	}
	applies
}

reasons := order_reasons | item_reasons

complete(item) if {
	item.accessories_complete
	item.manuals_included
	item.warranty_card_blank
	item.packing_material
	item.original_box
	item.upc_intact
}

# 15% of each returned item lacking a completeness fact, half-up to the cent
fees := [floor(((item.price * 15) + 50) / 100) | some item in returned; not complete(item)]

paid := [item | some item in returned; not item.free]

paid_skus := {item.sku | some item in paid}

paid_total := sum([item.price | some item in paid])

# kept free items whose paid item is returned (bundled_with null: any paid item returned)
deduction := sum([item.price |
	some item in input.items
	item.free
	not item.returned
	deducted(item.bundled_with)
])

deducted(null) if count(paid) > 0

deducted(sku) if sku in paid_skus

with_fee := "approve_with_fee" if count(fees) > 0 else := "approve"

decision := {"outcome": "refuse", "reasons": reasons, "refund": 0, "restocking_fee": 0,
	"free_items_deduction": 0} if {
	count(reasons) > 0
} else := {"outcome": with_fee, "reasons": [], "refund": 0, "restocking_fee": sum(fees),
	"free_items_deduction": 0} if {
	input.kind == "exchange"
} else := {"outcome": with_fee, "reasons": [],
	"refund": max([0, paid_total - deduction - sum(fees)]),
	"restocking_fee": sum(fees), "free_items_deduction": deduction}
