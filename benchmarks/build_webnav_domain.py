"""Build the web-navigation development domain for procedural memory.

Eight task kinds a browsing agent meets on shop, account and booking sites,
written in the WebShop / Mind2Web action style (``search[...]``, ``click[...]``,
``type[field] text``, ``select[field] option``, ``answer[...]``). Each trajectory
comes from a template with randomised arguments (products, sizes, order numbers,
e-mail addresses, restaurants, dates, coupon codes), one of several task
phrasings written independently of any key format (held-out items prefer the
phrasings no learned item of their kind used), optional extra steps and page
text as observations. One learned trajectory per kind fails (``success: false``).

Output: ``benchmarks/data/procedures/webnav.json`` (same layout as the tool-use
domain). Deterministic for a given ``--seed``:

    python benchmarks/build_webnav_domain.py
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.domain_templates import (  # noqa: E402
    Built,
    KindBuilder,
    Pick,
    build_domain,
    run_cli,
)

__all__ = ["KINDS", "build", "main"]

OUT = Path(__file__).resolve().parent / "data" / "procedures" / "webnav.json"
LEARN_PER_KIND = 3
FAILED_PER_KIND = 1
HELDOUT_PER_KIND = 5

SHOPS = ["shop.example.com", "market.acme.io", "store.northwind.dev", "buy.contoso.net"]
PRODUCTS = [
    ("running shoes", "Trail Runner 2", ["8", "9", "10", "11"]),
    ("rain jacket", "Stormshell Jacket", ["S", "M", "L", "XL"]),
    ("coffee grinder", "Burr Grinder Pro", ["black", "steel"]),
    ("yoga mat", "GripMat 6mm", ["blue", "purple", "grey"]),
    ("desk lamp", "Lumo LED Lamp", ["white", "black"]),
    ("backpack", "Daypack 22L", ["green", "navy"]),
    ("wool socks", "Merino Crew Socks", ["M", "L"]),
]
RESTAURANTS = ["Casa Lisboa", "The Green Fork", "Sakura House", "Bistro 21", "Olive & Thyme"]
STREETS = ["12 Harbour Road", "7 Mill Lane", "48 Elm Street", "3 Rue Cler", "90 King Avenue"]
CITIES = ["Leeds", "Porto", "Lyon", "Utrecht", "Boston"]
NAMES = ["alex", "sam", "kim", "jo", "lee", "max"]
DOMAINS = ["mail.com", "example.org", "inbox.net"]
REASONS = ["Wrong size", "Arrived damaged", "No longer needed", "Not as described"]
STATUSES = ["Shipped - arriving Thursday", "Out for delivery", "Processing", "Delivered Monday"]


def _home(shop: str) -> str:
    return (
        f"https://{shop}/ - Home\n[Search box] [Sign in] [Orders] [Cart (0)] [Account] [Help]\n"
        "Today's deals: 20% off outdoor gear. Free shipping over $50."
    )


def _results(product: str, title: str, rng: random.Random) -> str:
    others = rng.sample([p[1] for p in PRODUCTS if p[1] != title], 2)
    rows = [title] + others
    rng.shuffle(rows)
    return f"Results for '{product}':\n" + "\n".join(
        f"[{r}] ${rng.randint(15, 180)}.{rng.choice(['00', '49', '99'])}" for r in rows
    )


def buy_product(rng: random.Random, fail: bool, pick: Pick) -> Built:
    product, title, options = rng.choice(PRODUCTS)
    option = rng.choice(options)
    qty = rng.randint(1, 3)
    task = pick(
        [
            f"Buy {qty} {product} in {option}.",
            f"Order the {product} ({option}), quantity {qty}, and check out.",
            f"I need {qty}x {product}, {option} please - purchase them.",
            f"Get me {product} in {option}; {qty} of them, paid with the saved card.",
            f"Purchase {product}, variant {option}, {qty} units.",
            f"Add {qty} {option} {product} to the cart and complete the order.",
            f"Could you order {product} for me? {option}, {qty} pieces.",
            f"Place an order for {qty} {product} ({option}).",
        ]
    )
    steps = [(f"search[{product}]", _results(product, title, rng))]
    steps.append(
        (
            f"click[{title}]",
            f"{title}\nOptions: "
            + " ".join(f"[{o}]" for o in options)
            + "\n[Quantity] [Add to cart]",
        )
    )
    if fail:
        steps.append(("click[Add to cart]", "Please select an option before adding to cart."))
        steps.append(("click[Add to cart]", "Please select an option before adding to cart."))
        return task, steps, False
    steps.append((f"click[{option}]", f"Selected: {option}"))
    if qty > 1:
        steps.append((f"select[Quantity] {qty}", f"Quantity: {qty}"))
    steps.append(("click[Add to cart]", f"Added to cart. [Cart ({qty})] [Checkout]"))
    steps.append(
        ("click[Checkout]", "Shipping: saved address. Payment: Visa ending 4242.\n[Place order]")
    )
    steps.append(("click[Place order]", f"Thank you! Order #{rng.randint(100000, 999999)} placed."))
    return task, steps, True


def track_order(rng: random.Random, fail: bool, pick: Pick) -> Built:
    order = str(rng.randint(100000, 999999))
    status = rng.choice(STATUSES)
    task = pick(
        [
            f"Where is my order #{order}? Tell me its delivery status.",
            f"Check the shipping status of order {order}.",
            f"Has order {order} shipped yet?",
            f"Find out when order #{order} will arrive.",
            f"Look up the tracking information for order {order}.",
            f"What is the current status of purchase {order}?",
            f"Track package for order number {order}.",
            f"I'm waiting on {order} - any news on delivery?",
        ]
    )
    listing = [order] + [str(rng.randint(100000, 999999)) for _ in range(2)]
    rng.shuffle(listing)
    steps = [("click[Orders]", "Your orders:\n" + "\n".join(f"[#{o}]" for o in listing))]
    if fail:
        steps.append(("answer[Processing]", "That is not the status shown for this order."))
        return task, steps, False
    steps.append((f"click[#{order}]", f"Order #{order}\nStatus: {status}\n[Track package]"))
    if rng.random() < 0.5:
        steps.append(("click[Track package]", f"Carrier: DHL. Last scan: {status}."))
    steps.append((f"answer[{status}]", "Answer recorded."))
    return task, steps, True


def return_item(rng: random.Random, fail: bool, pick: Pick) -> Built:
    product, title, _ = rng.choice(PRODUCTS)
    order = str(rng.randint(100000, 999999))
    reason = rng.choice(REASONS)
    task = pick(
        [
            f"Return the {product} from order {order}; reason: {reason.lower()}.",
            f"Start a return for the {product} I bought (order #{order}), {reason.lower()}.",
            f"Send back the {product} from order {order} because of '{reason.lower()}'.",
            f"I want a refund for the {product} in order {order} ({reason.lower()}).",
            f"Request a return of {product}, order {order}. Reason: {reason.lower()}.",
            f"The {product} (#{order}) has to go back: {reason.lower()}.",
            f"Open a return on order {order} for the {product}.",
            f"Please return my {product}; order number {order}.",
        ]
    )
    steps = [
        ("click[Orders]", f"Your orders:\n[#{order}] {title}\n[#{rng.randint(100000, 999999)}]")
    ]
    steps.append((f"click[#{order}]", f"Order #{order}: {title}\n[Return item] [Buy again]"))
    steps.append(
        (
            "click[Return item]",
            "Why are you returning this?\n[Reason] " + " / ".join(REASONS) + "\n[Submit return]",
        )
    )
    if fail:
        steps.append(("click[Submit return]", "Please choose a reason."))
        return task, steps, False
    steps.append((f"select[Reason] {reason}", f"Reason: {reason}"))
    steps.append(("click[Submit return]", "Return started. Print your label: [Download label]"))
    if rng.random() < 0.5:
        steps.append(("click[Download label]", "label.pdf downloaded."))
    return task, steps, True


def write_review(rng: random.Random, fail: bool, pick: Pick) -> Built:
    product, title, _ = rng.choice(PRODUCTS)
    stars = rng.randint(1, 5)
    text = rng.choice(
        ["Works as described.", "Too small for me.", "Great value.", "Broke in a week."]
    )
    task = pick(
        [
            f"Leave a {stars}-star review for the {product}: '{text}'",
            f'Rate the {product} {stars} stars and write "{text}".',
            f"Post my review of the {product}: {stars}/5, {text}",
            f"Give the {product} {stars} stars with the comment '{text}'.",
            f"Review the {product} I purchased - {stars} stars. Text: {text}",
            f"Write feedback on {product}: {text} ({stars} stars).",
            f"Submit a {stars} star rating for {product} saying {text}",
            f"Share my opinion on the {product}: {text} Score {stars}.",
        ]
    )
    steps = [(f"search[{product}]", _results(product, title, rng))]
    steps.append((f"click[{title}]", f"{title}\n[Add to cart] [Reviews (12)] [Write a review]"))
    steps.append(
        ("click[Write a review]", "Your rating: [1] [2] [3] [4] [5]\n[Review text] [Submit]")
    )
    if fail:
        steps.append((f"type[Review text] {text}", f"Review text: {text}"))
        steps.append(("click[Submit]", "Please choose a star rating."))
        return task, steps, False
    steps.append((f"click[{stars}]", f"Rating: {stars} stars"))
    steps.append((f"type[Review text] {text}", f"Review text: {text}"))
    steps.append(("click[Submit]", "Thanks! Your review will appear after moderation."))
    return task, steps, True


def reset_password(rng: random.Random, fail: bool, pick: Pick) -> Built:
    email = f"{rng.choice(NAMES)}{rng.randint(1, 99)}@{rng.choice(DOMAINS)}"
    task = pick(
        [
            f"I forgot my password; reset it for the account {email}.",
            f"Recover access to the account registered as {email}.",
            f"Set a new password on {email}'s account.",
            f"Reset the login password of {email}.",
            f"The user {email} is locked out - send a reset and choose a new password.",
            f"Change the password for {email} through the 'forgot password' flow.",
            f"Help {email} get back into their account.",
            f"Do a password reset for {email}.",
        ]
    )
    steps = [("click[Sign in]", "Sign in\n[Email] [Password] [Sign in] [Forgot password?]")]
    steps.append(
        ("click[Forgot password?]", "Enter your e-mail address.\n[Email] [Send reset link]")
    )
    if fail:
        steps.append(("click[Send reset link]", "Please enter an e-mail address."))
        steps.append(("click[Send reset link]", "Please enter an e-mail address."))
        return task, steps, False
    steps.append((f"type[Email] {email}", f"Email: {email}"))
    steps.append(("click[Send reset link]", f"We sent a link to {email}."))
    steps.append(("open_mail[Reset your password]", "Click here to reset: [Reset password]"))
    steps.append(("click[Reset password]", "[New password] [Confirm password] [Save]"))
    steps.append(("type[New password] ********", "New password: ********"))
    steps.append(("type[Confirm password] ********", "Confirm password: ********"))
    steps.append(("click[Save]", "Your password has been changed. [Sign in]"))
    return task, steps, True


def book_table(rng: random.Random, fail: bool, pick: Pick) -> Built:
    place = rng.choice(RESTAURANTS)
    people = rng.randint(2, 8)
    day = rng.choice(["Friday", "Saturday", "Sunday", "Tuesday"])
    hour = rng.choice(["7:00 pm", "7:30 pm", "8:00 pm", "12:30 pm"])
    task = pick(
        [
            f"Book a table for {people} at {place} on {day} at {hour}.",
            f"Reserve dinner at {place}: {people} people, {day}, {hour}.",
            f"Get us a reservation at {place} for {day} {hour}, party of {people}.",
            f"Make a booking at {place} ({people} guests) this {day} at {hour}.",
            f"Can you reserve {place} for {people} on {day}? Around {hour}.",
            f"Secure a {hour} table at {place} on {day} for {people}.",
            f"We're {people} - book {place} for {day} evening at {hour}.",
            f"Find and confirm a table at {place}, {day}, {hour}, {people} diners.",
        ]
    )
    steps = [(f"search[{place}]", f"[{place}] Mediterranean - 4.6 stars\n[{place} Express]")]
    steps.append((f"click[{place}]", f"{place}\n[Date] [Time] [Party size] [Find a table]"))
    steps.append((f"select[Date] {day}", f"Date: {day}"))
    steps.append((f"select[Party size] {people}", f"Party size: {people}"))
    steps.append(("click[Find a table]", f"Available: [{hour}] [9:15 pm]"))
    if fail:
        steps.append(("click[9:15 pm]", "Hold on: 9:15 pm selected. [Confirm]"))
        steps.append(("click[Confirm]", f"Booked {place}, {day} 9:15 pm - not the requested time."))
        return task, steps, False
    steps.append((f"click[{hour}]", f"{hour} selected. [Name] [Phone] [Confirm]"))
    if rng.random() < 0.6:
        steps.append(("type[Name] Alex Doe", "Name: Alex Doe"))
    steps.append(("click[Confirm]", f"Confirmed: {place}, {day} {hour}, {people} people."))
    return task, steps, True


def change_address(rng: random.Random, fail: bool, pick: Pick) -> Built:
    street = rng.choice(STREETS)
    city = rng.choice(CITIES)
    postcode = f"{rng.randint(1000, 99999)}"
    task = pick(
        [
            f"Update my shipping address to {street}, {city} {postcode}.",
            f"I moved: the new delivery address is {street}, {postcode} {city}.",
            f"Change the default address on my account to {street} in {city}.",
            f"Ship future orders to {street}, {city} ({postcode}).",
            f"Edit my saved address: {street}, {city}, postcode {postcode}.",
            f"Replace the address on file with {street}, {city} {postcode}.",
            f"Set {street}, {city} as where my parcels should go.",
            f"My address is now {street} ({city}, {postcode}); please save it.",
        ]
    )
    steps = [("click[Account]", "Your account\n[Profile] [Addresses] [Payment] [Security]")]
    steps.append(("click[Addresses]", "Default: 1 Old Road, Springfield\n[Edit] [Add new]"))
    steps.append(("click[Edit]", "[Street] [City] [Postcode] [Save]"))
    steps.append((f"type[Street] {street}", f"Street: {street}"))
    steps.append((f"type[City] {city}", f"City: {city}"))
    if fail:
        steps.append(("click[Save]", "Postcode is required."))
        return task, steps, False
    steps.append((f"type[Postcode] {postcode}", f"Postcode: {postcode}"))
    steps.append(("click[Save]", f"Default address saved: {street}, {city} {postcode}."))
    return task, steps, True


def apply_coupon(rng: random.Random, fail: bool, pick: Pick) -> Built:
    code = f"{rng.choice(['SAVE', 'SPRING', 'WELCOME', 'VIP'])}{rng.randint(5, 30)}"
    total = rng.randint(40, 300)
    task = pick(
        [
            f"Apply the coupon {code} to my cart and tell me the new total.",
            f"Use discount code {code} at checkout; what do I pay now?",
            f"Redeem promo {code} on the current cart.",
            f"I have a voucher, {code} - put it on my order and report the price.",
            f"Add the code {code} to the basket and give me the discounted total.",
            f"Check how much {code} saves on what's in my cart.",
            f"Enter coupon {code} and read back the order total.",
            f"Get the {code} discount applied to the cart.",
        ]
    )
    new_total = round(total * 0.85, 2)
    steps = [
        (
            "click[Cart (2)]",
            f"Cart: 2 items. Subtotal ${total}.00\n[Coupon code] [Apply] [Checkout]",
        )
    ]
    if fail:
        steps.append(("click[Apply]", "Enter a code first."))
        steps.append((f"answer[${total}.00]", "The coupon was never applied."))
        return task, steps, False
    steps.append((f"type[Coupon code] {code}", f"Coupon code: {code}"))
    steps.append(("click[Apply]", f"Coupon {code} applied: -15%. Total ${new_total:.2f}"))
    steps.append((f"answer[${new_total:.2f}]", "Answer recorded."))
    return task, steps, True


KINDS: dict[str, KindBuilder] = {
    "buy_product": buy_product,
    "track_order": track_order,
    "return_item": return_item,
    "write_review": write_review,
    "reset_password": reset_password,
    "book_table": book_table,
    "change_address": change_address,
    "apply_coupon": apply_coupon,
}


def _item(
    rng: random.Random, kind: str, index: int, fail: bool, split: str, pick: Pick
) -> dict[str, Any]:
    task, steps, success = KINDS[kind](rng, fail, pick)
    return {
        "id": f"webnav_{split}_{kind}_{index}",
        "type": kind,
        "task": task,
        "setting": _home(rng.choice(SHOPS)),
        "steps": [{"action": a, "observation": o} for a, o in steps],
        "success": success,
    }


def build(seed: int = 12) -> dict[str, Any]:
    """The whole domain: learned (including failures) and held-out items per kind."""
    return build_domain(
        "webnav",
        seed,
        KINDS,
        _item,
        learned=LEARN_PER_KIND,
        failed=FAILED_PER_KIND,
        heldout=HELDOUT_PER_KIND,
    )


def main() -> None:
    run_cli(__doc__.split("\n")[0], build, OUT)


if __name__ == "__main__":
    main()
