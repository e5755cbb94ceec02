"""A small grammar of smart-home and assistant commands: the sentences of the synthetic `mini` corpus.

Commands, numbers, times and names recombine into thousands of distinct sentences over ~200 words, so a
word N-gram LM trained on the training text has real structure to learn and helps a character CTC model
that would otherwise misspell words. Sentences are upper case, words separated by single spaces, with no
digits or punctuation: what `asr units` and `asr lm` expect in a Kaldi `text` file.

Every choice is drawn from a `random.Random` passed in, so a seed fixes the sentence.
"""

from __future__ import annotations

import random
import zlib
from typing import Callable

ONES = ["ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE"]
TEENS = ["TEN", "ELEVEN", "TWELVE", "THIRTEEN", "FOURTEEN", "FIFTEEN", "SIXTEEN", "SEVENTEEN", "EIGHTEEN",
         "NINETEEN"]
TENS = ["TWENTY", "THIRTY", "FORTY", "FIFTY", "SIXTY", "SEVENTY", "EIGHTY", "NINETY"]

NAMES = ["ANNA", "BEN", "CARLOS", "DAVID", "EMMA", "FATIMA", "GEORGE", "HANNAH", "IVAN", "JULIA", "KEVIN",
         "LAURA", "MARIA", "NOAH", "OLIVIA", "PETER", "RACHEL", "SOPHIE", "THOMAS", "VICTOR"]
CITIES = ["LONDON", "PARIS", "BERLIN", "TOKYO", "CHICAGO", "MADRID", "DUBLIN", "BOSTON", "SYDNEY", "TORONTO",
          "DENVER", "VIENNA"]
ROOMS = ["KITCHEN", "BEDROOM", "LIVING ROOM", "BATHROOM", "GARAGE", "OFFICE", "HALLWAY", "DINING ROOM",
         "BASEMENT", "GARDEN"]
DEVICES = ["LIGHTS", "LAMP", "FAN", "HEATER", "RADIO", "TELEVISION", "SPEAKER", "COFFEE MACHINE"]
OPENABLES = ["WINDOW", "WINDOWS", "BLINDS", "CURTAINS", "DOOR"]
WEEKDAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
DAYS = ["TODAY", "TOMORROW", "THIS WEEKEND", "NEXT WEEK"] + [f"ON {day}" for day in WEEKDAYS]
PARTS_OF_DAY = ["IN THE MORNING", "IN THE AFTERNOON", "IN THE EVENING", "AT NIGHT"]
GENRES = ["JAZZ", "ROCK", "CLASSICAL", "POP", "COUNTRY", "BLUES", "FOLK", "DANCE"]
ITEMS = ["APPLES", "EGGS", "BANANAS", "ONIONS", "TOMATOES", "CARROTS", "LEMONS", "POTATOES", "BOTTLES OF MILK",
         "LOAVES OF BREAD"]
TASKS = ["BUY MILK", "WATER THE PLANTS", "FEED THE CAT", "WALK THE DOG", "TAKE OUT THE TRASH", "PAY THE BILLS",
         "CHECK THE MAIL", "BOOK A TABLE", "PICK UP THE KIDS", "CLEAN THE KITCHEN"]
MESSAGES = ["I AM ON MY WAY", "SEE YOU SOON", "I WILL BE LATE", "CALL ME BACK", "HAPPY BIRTHDAY",
            "DINNER IS READY", "I AM AT HOME", "THANK YOU", "GOOD NIGHT", "I MISS YOU", "THE DOOR IS OPEN",
            "MEET ME AT THE STATION"]


def number(rng: random.Random, low: int = 1, high: int = 99) -> str:
    """A cardinal number in words, uniform in [low, high] (at most 99)."""
    value = rng.randint(low, high)
    if value < 10:
        return ONES[value - 1]
    if value < 20:
        return TEENS[value - 10]
    tens, ones = divmod(value, 10)
    return TENS[tens - 2] + ("" if ones == 0 else " " + ONES[ones - 1])


def clock_time(rng: random.Random) -> str:
    """A time of day as people say it: SEVEN THIRTY, TEN FORTY FIVE IN THE EVENING, NOON."""
    if rng.random() < 0.08:
        return rng.choice(["NOON", "MIDNIGHT"])
    hour = rng.choice(ONES + TEENS[:3])
    minutes = rng.choice(["", "FIFTEEN", "THIRTY", "FORTY FIVE", "TEN", "TWENTY", "FIFTY"])
    part = rng.choice(PARTS_OF_DAY) if rng.random() < 0.3 else ""
    return " ".join(word for word in (hour, minutes, part) if word)


def duration(rng: random.Random) -> str:
    """A duration for a timer: ONE MINUTE, TWENTY FIVE SECONDS, TWO HOURS."""
    unit = rng.choice(["MINUTE", "SECOND", "HOUR"])
    count = number(rng, 1, 60 if unit != "HOUR" else 12)
    return f"{count} {unit}" + ("" if count == "ONE" else "S")


def _sentence_makers() -> list[Callable[[random.Random], str]]:
    """One maker per sentence pattern; each draws the pattern's slots from the rng."""
    c = random.Random.choice
    return [
        lambda r: f"TURN {c(r, ['ON', 'OFF'])} THE {c(r, ROOMS)} {c(r, DEVICES)}",
        lambda r: f"SET A TIMER FOR {duration(r)}",
        lambda r: f"CALL {c(r, NAMES)} AT {clock_time(r)}",
        lambda r: f"WAKE ME UP AT {clock_time(r)} {c(r, DAYS)}",
        lambda r: f"SET THE {c(r, ROOMS)} TEMPERATURE TO {number(r, 10, 30)} DEGREES",
        lambda r: f"REMIND ME TO {c(r, TASKS)} {c(r, DAYS)} AT {clock_time(r)}",
        lambda r: f"PLAY SOME {c(r, GENRES)} MUSIC IN THE {c(r, ROOMS)} FOR {duration(r)}",
        lambda r: f"SEND A MESSAGE TO {c(r, NAMES)} SAYING {c(r, MESSAGES)}",
        lambda r: f"WHAT IS THE WEATHER IN {c(r, CITIES)} {c(r, DAYS)}",
        lambda r: f"ADD {number(r, 2, 20)} {c(r, ITEMS)} TO THE SHOPPING LIST",
        lambda r: f"SCHEDULE A MEETING WITH {c(r, NAMES)} ON {c(r, WEEKDAYS)} AT {clock_time(r)}",
        lambda r: f"DIM THE {c(r, ROOMS)} LIGHTS TO {number(r, 5, 95)} PERCENT",
        lambda r: f"{c(r, ['OPEN', 'CLOSE'])} THE {c(r, ROOMS)} {c(r, OPENABLES)} {c(r, DAYS)} AT {clock_time(r)}",
        lambda r: f"HOW LONG DOES IT TAKE TO DRIVE FROM {c(r, CITIES)} TO {c(r, CITIES)}",
        lambda r: f"BOOK A FLIGHT TO {c(r, CITIES)} {c(r, DAYS)}",
        lambda r: f"TELL {c(r, NAMES)} THAT {c(r, MESSAGES)}",
    ]


SENTENCE_MAKERS = _sentence_makers()


def is_held_out(sentence: str, held_out_percent: int = 10) -> bool:
    """Whether a sentence belongs to the evaluation pool, decided by a stable hash of its text.

    Training sentences and evaluation sentences are drawn from the two disjoint pools, so test sentences are
    never in the LM's training text, however many utterances either side draws.
    """
    return zlib.crc32(sentence.encode()) % 100 < held_out_percent


def sample_sentence(rng: random.Random, *, held_out: bool) -> str:
    """Draw one sentence from the evaluation pool (`held_out=True`) or from the training pool."""
    while True:
        sentence = rng.choice(SENTENCE_MAKERS)(rng)
        if rng.random() < 0.2:
            sentence = "PLEASE " + sentence
        if is_held_out(sentence) == held_out:
            return sentence

