"""The words Harbour gives back to a person with their drug checking result.

Written for a reading age of about twelve: second person, short sentences, one idea each.
The advice follows harm reduction guidance (start low, go slow, do not use alone, carry
naloxone) and never tells a person to stop using: people act on advice they can use.
The topics match ``AdviceTopic`` and the ``"advice"`` key of ``data/substances.json``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Advice:
    topic: str
    heading: str
    meaning: str
    tips: tuple[str, ...]


ADVICE: dict[str, Advice] = {
    "nitazene": Advice(
        topic="nitazene",
        heading="A nitazene was found",
        meaning=(
            "Your sample has a nitazene. Nitazenes are opioids that can be much stronger "
            "than fentanyl, so even a tiny amount can stop your breathing."
        ),
        tips=(
            "Do not use alone. Have someone with you who can give naloxone and call for help.",
            "Take much less than you usually would, and wait before you take any more.",
            "Have more than one dose of naloxone ready. A person may need several doses.",
            "Call for emergency help early, as soon as someone is hard to wake or breathing "
            "slowly. Do not wait to see if naloxone works.",
        ),
    ),
    "fentanyl": Advice(
        topic="fentanyl",
        heading="Fentanyl or a drug like it was found",
        meaning=(
            "Your sample has fentanyl or a drug like it. Fentanyl is a very strong opioid, "
            "and a small amount can stop your breathing."
        ),
        tips=(
            "Do not use alone. If you have to, tell someone where you are, or call a line "
            "that can send help.",
            "Start with a small amount and go slow. Wait to feel it before you take more.",
            "Have naloxone ready, and make sure the people around you know how to use it.",
            "Leave time between doses. Smoking carries less risk of overdose than injecting.",
            "After a break, even a few days, your body can take much less. Use less than before.",
        ),
    ),
    "xylazine": Advice(
        topic="xylazine",
        heading="A sedative like xylazine was found",
        meaning=(
            "Your sample has xylazine (tranq) or a similar animal sedative such as "
            "medetomidine. It can make you very sleepy for a long time, and naloxone does "
            "not reverse it."
        ),
        tips=(
            "Still give naloxone in an overdose. Opioids like fentanyl are usually there too, "
            "and naloxone reverses them.",
            "If someone is breathing slowly or not at all, give rescue breaths. Breathing "
            "matters more than waking them up.",
            "Put a person who is very sleepy on their side in the recovery position, and "
            "stay with them.",
            "Xylazine can cause wounds, even away from where you inject. Keep wounds covered "
            "and get them looked at early.",
            "Change where you inject each time, and use new equipment every time.",
        ),
    ),
    "benzodiazepine": Advice(
        topic="benzodiazepine",
        heading="A benzodiazepine was found",
        meaning=(
            "Your sample has a benzodiazepine (a benzo). Benzos make you very sleepy. With "
            "opioids or alcohol they can slow your breathing a lot, and they can cause "
            "blackouts."
        ),
        tips=(
            "Mixing with opioids, alcohol or other downers is the biggest risk. If you do "
            "mix, use less of each and go slow.",
            "Naloxone does not reverse benzos. Give it anyway in an overdose, because "
            "opioids may be there too.",
            "If someone is hard to wake, give rescue breaths, put them in the recovery "
            "position and stay with them.",
            "Benzos can last many hours. Be with someone you trust and plan how you get home.",
            "If you take benzos every day, stopping all at once can cause seizures. Talk to "
            "us about cutting down safely.",
        ),
    ),
    "opioid": Advice(
        topic="opioid",
        heading="An opioid was found",
        meaning=(
            "Your sample has an opioid. Opioids slow your breathing, and too much can cause "
            "an overdose."
        ),
        tips=(
            "Start with a small amount, especially from a new batch, and go slow.",
            "Have naloxone ready, and make sure the people around you know how to use it.",
            "After a break, even a few days, your body can take much less. Use less than before.",
            "Mixing with alcohol, benzos or other downers makes an overdose more likely.",
        ),
    ),
    "stimulant": Advice(
        topic="stimulant",
        heading="A stimulant was found",
        meaning=(
            "Your sample has a stimulant, such as cocaine, meth or MDMA. Stimulants speed up "
            "your heart and make your body hot."
        ),
        tips=(
            "Start with a small amount and wait before you take more.",
            "Sip water, about a glass an hour, and take breaks to cool down.",
            "Eat something and rest between uses. Sleep when you can.",
            "A stimulant does not protect you from an opioid overdose. Be careful when you "
            "mix drugs.",
            "Use your own pipe or straw, and new equipment if you inject. Do not share.",
        ),
    ),
    "dissociative": Advice(
        topic="dissociative",
        heading="A dissociative like ketamine was found",
        meaning=(
            "Your sample has a dissociative drug, such as ketamine. It can make you feel "
            "far away from your body and make it hard to move."
        ),
        tips=(
            "Start with a small amount and wait before you take more.",
            "Use sitting or lying down, in a safe place, with someone you trust.",
            "Mixing with alcohol, opioids or benzos can make you pass out and slow your breathing.",
            "Stay away from water, roads and high places while it works.",
            "Using ketamine often can hurt your bladder. If peeing hurts, talk to us or a doctor.",
        ),
    ),
    "psychedelic": Advice(
        topic="psychedelic",
        heading="A psychedelic was found",
        meaning=(
            "Your sample has a psychedelic, such as LSD, DMT or psilocybin. It changes how "
            "you see, feel and think, sometimes for many hours."
        ),
        tips=(
            "Start with a small amount. Some take an hour or more to work, so wait before "
            "you take more.",
            "Choose a calm, safe place, and have someone sober with you.",
            "If it gets hard, move somewhere quiet. Remind yourself it is the drug and it "
            "will pass.",
            "Some medicines, such as lithium and some antidepressants, do not mix well with "
            "psychedelics. Ask us or a pharmacist.",
        ),
    ),
    "cannabinoid": Advice(
        topic="cannabinoid",
        heading="THC or a drug like it was found",
        meaning=(
            "Your sample has THC or a drug like it. Synthetic cannabinoids, sometimes called "
            "spice or K2, can be much stronger than cannabis."
        ),
        tips=(
            "Start low. Edibles can take up to two hours to work, so wait before you take more.",
            "With synthetic cannabinoids, take one small puff and wait.",
            "Do not drive while it works.",
            "If you feel scared or unwell, go somewhere calm and have someone with you.",
        ),
    ),
}

# Most urgent first: the order a person reads the advice in.
URGENCY: tuple[str, ...] = (
    "nitazene",
    "fentanyl",
    "xylazine",
    "benzodiazepine",
    "opioid",
    "stimulant",
    "dissociative",
    "psychedelic",
    "cannabinoid",
)

UNEXPECTED = Advice(
    topic="unexpected",
    heading="Something you did not expect was found",
    meaning=(
        "Your sample has a drug you did not expect. It may act differently from what you "
        "are used to, or be stronger."
    ),
    tips=(
        "Start with a much smaller amount than usual, and go slow.",
        "Have naloxone nearby, and someone with you.",
        "Tell the people you use with, so they can be careful too.",
        "Read the advice below for each drug that was found.",
    ),
)

NOTHING_FOUND = Advice(
    topic="nothing_found",
    heading="No drug was found",
    meaning=(
        "The test did not find any drug it can detect. That does not make your drug safe: "
        "test strips and machines can miss drugs at low amounts, and some drugs they "
        "cannot find at all."
    ),
    tips=(
        "Still start with a small amount and go slow.",
        "Have naloxone nearby, and someone with you.",
        "Ask us about testing it another way.",
    ),
)

STRIP_INVALID = Advice(
    topic="strip_invalid",
    heading="The test strip did not work",
    meaning=(
        "The strip did not give a result we can read. It tells us nothing about what is "
        "in your drug."
    ),
    tips=(
        "Test again with a new strip.",
        "Mix the drug with the amount of water the strip needs, and dip it only up to the line.",
        "Until you have a result, treat the drug as if it could have fentanyl in it.",
    ),
)

MIXED_OPIOID_STIMULANT = Advice(
    topic="mixed_opioid_stimulant",
    heading="An opioid and a stimulant were found together",
    meaning=(
        "Your sample has both an opioid and a stimulant. The stimulant can hide how strong "
        "the opioid is, and an overdose can happen when the stimulant wears off."
    ),
    tips=(
        "A stimulant does not protect you from an opioid overdose.",
        "Start with a small amount and wait before you take more.",
        "Have naloxone ready. It works on the opioid in an overdose.",
    ),
)

GENERAL = Advice(
    topic="general",
    heading="Whatever was found",
    meaning=(
        "Drug checking lowers the risk, but it cannot tell you everything. A plan made "
        "before you use keeps you safer."
    ),
    tips=(
        "Do not use alone. If you do, tell someone where you are, or call a line that can "
        "send help.",
        "Carry naloxone and know how to use it. Ask us for a kit if you need one.",
        "If someone will not wake up or is breathing slowly, call emergency services, give "
        "naloxone and give rescue breaths.",
        "Come back or call us any time to talk, test again or get new equipment.",
    ),
)


def advice_for(topics: Iterable[str]) -> list[Advice]:
    """The advice for the topics found, most urgent first, each once, unknown topics ignored."""
    found = set(topics)
    return [ADVICE[topic] for topic in URGENCY if topic in found]
