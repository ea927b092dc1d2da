"""The three phases: the floor, the throughput of the questionnaire and its save, the journey."""

from __future__ import annotations

import asyncio
import random
import time

from tests.load.client import Browser, Questionnaire, Run, connector_session
from tests.load.fixture import Plan


async def _hammer(duration: float, connections: int, step) -> tuple[float, float]:
    """`connections` loops calling `step(i)` until the time is up; returns the measured span."""
    start = time.monotonic()
    end = start + duration

    async def loop(i: int) -> None:
        while time.monotonic() < end:
            await step(i)

    await asyncio.gather(*(loop(i) for i in range(connections)))
    return start, time.monotonic()


async def _measured(name: str, cpu: dict, meter, duration: float, connections: int, step):
    """_hammer, with the CPU used meanwhile sampled before and after (cpu[name])."""
    before = meter.sample() if meter else None
    span = await _hammer(duration, connections, step)
    if meter:
        cpu[name] = (before, meter.sample())
    return span


async def floor(
    base: str, duration: float, connections: int, run: Run, cpu: dict, meter=None
) -> tuple[float, float]:
    async with connector_session(connections) as http:
        browser = Browser(http, base, run)
        await browser.request("GET", "/", "warm-up")  # every worker has its pool filled
        run.records.clear()

        async def step(_i: int) -> None:
            await browser.request("GET", "/", "floor")

        return await _measured("floor", cpu, meter, duration, connections, step)


async def _signed_in(http, base, plan: Plan, run: Run, assignments, deadline):
    async def one(index: int, assignment_id: int, username: str):
        browser = Browser(http, base, run)
        if not await browser.login(username, plan.password, deadline):
            raise RuntimeError(f"{username} could not sign in")
        sheet = Questionnaire(browser, assignment_id, plan.items, random.Random(index))
        if not await sheet.open(deadline):
            raise RuntimeError(f"{username} could not open {assignment_id}")
        return sheet

    return await asyncio.gather(*(one(i, a, u) for i, (a, u) in enumerate(assignments)))


async def throughput(
    base: str, plan: Plan, duration: float, connections: int, run: Run, cpu: dict, meter=None
) -> dict:
    """The questionnaire page, then the draft save, each from `connections` signed-in browsers
    each on its own questionnaire; each save changes one answer, as an autosave does."""
    spans = {}
    async with connector_session(connections) as http:
        deadline = time.monotonic() + 120
        sheets = await _signed_in(http, base, plan, run, plan.assignments[:connections], deadline)
        for sheet in sheets:
            sheet.answer_everything("処理量")
            await sheet.autosave(deadline)  # the page then shows 54 stored answers

        async def page(i: int) -> None:
            await sheets[i].open(time.monotonic() + 30)

        async def save(i: int) -> None:
            sheets[i].change("処理量", 1)
            await sheets[i].autosave(time.monotonic() + 30)

        for name, step in (("questionnaire", page), ("autosave", save)):
            spans[name] = await _measured(name, cpu, meter, duration, connections, step)
    return spans


async def respondent(http, base, plan, run, index, assignment, start, end, think) -> None:
    """One person: signs in during the first 40 %, opens the questionnaire, answers it in
    autosaved steps with pauses, reopens it now and then, and submits before the end."""
    rng = random.Random(f"respondent-{index}")
    assignment_id, username = assignment
    await asyncio.sleep(rng.uniform(0, (end - start) * 0.4))
    grace = end + 20  # retries of a save under way may go on a little past the end
    browser = Browser(http, base, run)
    if not await browser.login(username, plan.password, grace):
        return
    await browser.until_answered(grace, "GET", "/assignments/", "inbox")
    sheet = Questionnaire(browser, assignment_id, plan.items, rng)
    if not await sheet.open(grace):
        return
    sheet.answer_everything(f"回答者{index}")
    submit_at = end - rng.uniform(2, 8)
    saves = 0
    while time.monotonic() < submit_at:
        status = await sheet.autosave(grace)
        saves += 1
        if status == 409 or saves % 4 == 0:
            await sheet.open(grace)  # a conflict, or the person came back to the page
        await asyncio.sleep(rng.uniform(*think))
        sheet.change(f"回答者{index}", rng.randint(1, 5))
    if await sheet.autosave(grace) == 200:
        await sheet.submit(grace)
        await sheet.open(grace)


async def journey(
    base: str, plan: Plan, chosen: list, duration: float, think, run: Run, faults
) -> tuple[float, float]:
    """One person per questionnaire of `chosen` (assignment id, username), all at once, while
    `faults` (a coroutine taking the start) strikes."""
    start = time.monotonic()
    end = start + duration
    async with connector_session(len(chosen)) as http:
        await asyncio.gather(
            faults(start),
            *(
                respondent(http, base, plan, run, i, a, start, end, think)
                for i, a in enumerate(chosen)
            ),
        )
    return start, time.monotonic()
