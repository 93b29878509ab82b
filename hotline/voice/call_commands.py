"""Carrying out the desk's commands on live agent calls: hold, transfers, consultation,
three-way calls, emergency transfer, and a supervisor's listen / whisper / barge.

The gateway reads the commands addressed to it (``hotline.contactcentre.commands``) every
``COMMAND_POLL_S`` while it holds agent calls, carries each out on its legs and bridge, and
records the outcome, which the desk receives as a ``command_done`` event.

Transfers keep the caller safe: the caller hears hold music while the new party's phone rings,
and the first agent leaves only once the new party has answered. If nobody answers, the caller
is back with the first agent and the command fails with the reason.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_noop

from hotline.contactcentre import acd_services as acd
from hotline.contactcentre.callcontrol import (
    CallEvent,
    CallState,
    Command,
    Effect,
    LegRole,
    TargetKind,
    TransitionError,
    command_step,
)
from hotline.voice.agentcalls import CALLER, GATEWAY_LANE
from hotline.voice.media.bridge import LegMode

if TYPE_CHECKING:
    from hotline.voice.agentcalls import AcdCall, AgentCalls, Leg

logger = logging.getLogger(__name__)

COMMAND_POLL_S = 0.3
COMMANDS_LANE = "desk-commands"  # the database lane of the polls for new commands
NUMBER_RING_S = 30.0  # how long a department's or emergency number may ring
MONITOR_MODES = {Command.LISTEN: LegMode.LISTEN, Command.WHISPER: LegMode.WHISPER,
                 Command.BARGE: LegMode.BARGE}


@dataclass(frozen=True)
class PendingCommand:
    id: int
    call_id: int
    action: str
    target_kind: str
    target: str


def _pending(gateway: str) -> list[PendingCommand]:
    from hotline.contactcentre.commands import pending_commands, split_target
    from hotline.voice.db_threads import release_connections

    release_connections()
    out = []
    for command in pending_commands(gateway):
        target = split_target(command.target)
        out.append(PendingCommand(command.pk, command.call_id, command.action,
                                  target.kind if target else "", target.value if target else ""))
    return out


def _finish(command_id: int, ok: bool, result: str) -> None:
    from hotline.contactcentre.commands import do_finish_command

    do_finish_command(command_id, ok, result)


def _update(call_id: int, agent_id: int | None, on_hold: bool | None,
            details: dict[str, Any]) -> None:
    from hotline.contactcentre.commands import do_update_call

    do_update_call(call_id, agent_id=agent_id, on_hold=on_hold, **details)


class CommandFailed(Exception):
    pass


class CommandRunner:
    def __init__(self, agents: AgentCalls) -> None:
        self.agents = agents
        self._running: set[int] = set()

    async def run(self) -> None:
        while True:
            if self.agents.calls:
                try:
                    # A lane of its own: routing (the gateway's lane) never waits behind a poll.
                    commands = await self.agents.db(_pending, self.agents.gateway_id,
                                                    lane=COMMANDS_LANE)
                except Exception:
                    logger.exception("reading desk commands failed")
                    commands = []
                for command in commands:
                    if command.id not in self._running:
                        self._running.add(command.id)
                        self.agents.gateway.spawn(self._execute(command))
            await asyncio.sleep(COMMAND_POLL_S)

    async def _execute(self, command: PendingCommand) -> None:
        # The outcome is written in the call's lane, after the call's own updates (the desk
        # reads the call once it sees the command done).
        lane = self._lane_of(command.call_id)
        try:
            result = await self._carry_out(command)
            ok = True
        except CommandFailed as exc:
            ok, result = False, str(exc)
        except Exception:
            logger.exception("command %s (%s) failed", command.id, command.action)
            ok, result = False, "error"
        try:
            await self.agents.db(_finish, command.id, ok, result, lane=lane)
        finally:
            self._running.discard(command.id)

    def _lookup(self, call_id: int) -> AcdCall | None:
        acd_call = self.agents.calls.get(call_id)
        if acd_call is None:  # a command on an earlier queue entry of the same call
            acd_call = next((c for c in self.agents.calls.values()
                             if any(leg.queued_id == call_id for leg in c.legs)), None)
        return acd_call

    def _lane_of(self, call_id: int) -> Hashable:
        acd_call = self._lookup(call_id)
        return acd_call.lane if acd_call is not None else GATEWAY_LANE

    def _find(self, call_id: int) -> AcdCall:
        acd_call = self._lookup(call_id)
        if acd_call is None or acd_call.state is CallState.ENDED:
            raise CommandFailed("the call has ended")
        return acd_call

    async def _carry_out(self, command: PendingCommand) -> str:
        acd_call = self._find(command.call_id)
        action = command.action
        self.agents.gateway.log(acd_call.call.call_id, "command",
                                f"{action}:{command.target_kind}:{command.target}")
        try:
            name = Command(action)
        except ValueError:
            raise CommandFailed(f"unknown command {action}") from None
        try:
            step = command_step(acd_call.state, name)
        except TransitionError:
            raise CommandFailed(gettext_noop("the call is not connected to an agent")) from None
        if name is not Command.HANG_UP and acd_call.bridge is None:
            raise CommandFailed(gettext_noop("the call is not connected to an agent"))
        acd_call.state = step.state
        # REPORT tells the desk whether the caller is on hold when the step changed that.
        on_hold = True if Effect.HOLD_CALLER in step.effects else \
            False if Effect.RESUME_CALLER in step.effects else None
        result = ""
        for effect in step.effects:
            done = await self._effect(effect, acd_call, name, command, on_hold)
            result = result or done
        return result

    async def _effect(self, effect: Effect, acd_call: AcdCall, name: Command,
                      command: PendingCommand, on_hold: bool | None) -> str:
        """Carry out one effect of a command; the first non-empty text is the command's result."""
        bridge = acd_call.bridge
        if effect is Effect.HANG_UP_CALLER:
            acd_call.call.ending = "hung_up_from_desk"
            acd_call.call.hangup()
            return "hung up"
        if effect is Effect.HOLD_CALLER:
            if bridge is not None:
                bridge.hold(CALLER)
            return "on hold"
        if effect is Effect.RESUME_CALLER:
            if bridge is not None:
                bridge.resume(CALLER)
            return "resumed"
        if effect is Effect.REPORT:
            await self.report(acd_call, on_hold=on_hold)
            return ""
        if effect is Effect.MONITOR:
            return await self._monitor(acd_call, command.target, MONITOR_MODES[name])
        if effect is Effect.TRANSFER:
            if command.target_kind == TargetKind.QUEUE:
                return await self._to_queue(acd_call, command.target)
            return await self._transfer(acd_call, command.target_kind, command.target)
        if effect is Effect.CONSULT:
            return await self._consult(acd_call, command.target_kind, command.target)
        if effect is Effect.HAND_OVER_TO_CONSULTEE:
            return await self.complete_transfer(acd_call)
        if effect is Effect.RELEASE_CONSULTEE:
            return await self._release_consultee(acd_call)
        if effect is Effect.ADD_PARTY:
            leg = await self._reach(acd_call, LegRole.PARTY, command.target_kind, command.target)
            self.agents.bridge_in(acd_call, leg)
            return f"{leg.label} joined"
        raise CommandFailed(f"{effect} is not a command's effect")

    # --- reaching a third party ------------------------------------------------------------

    async def _reach(self, acd_call: AcdCall, role: LegRole, kind: str, target: str) -> Leg:
        """Ring an extension (a colleague is claimed in the ACD first; a leader's or a
        department head's phone is simply rung) or a number (through the trunk) and wait for
        the answer."""
        if kind == TargetKind.EXTENSION:
            db = functools.partial(self.agents.db, lane=acd_call.lane)
            try:
                offered = await db(acd.offer_to_extension, acd_call.queued_id, target)
            except acd.AgentUnavailable as exc:
                raise CommandFailed(str(exc)) from None
            if offered is None:  # nobody of the ACD: no agent state to claim or release
                leg = await self.agents.dial_extension(acd_call, role, target,
                                                       timeout=NUMBER_RING_S)
                if leg is None:
                    raise CommandFailed(f"{target} did not answer")
                return leg
            leg = await self.agents.dial_extension(
                acd_call, role, target, timeout=offered.ring_timeout_s,
                queued_id=offered.queued_id, agent_id=offered.agent_id)
            if leg is None:
                await db(acd.withdraw_offer, offered.queued_id)
                raise CommandFailed(f"{target} did not answer")
            await db(acd.answered, offered.queued_id)
            return leg
        if kind == TargetKind.NUMBER:
            leg = await self.agents.dial_number(acd_call, role, target, timeout=NUMBER_RING_S)
            if leg is None:
                raise CommandFailed(f"{target} could not be reached")
            return leg
        raise CommandFailed("no such target")

    async def _transfer(self, acd_call: AcdCall, kind: str, target: str) -> str:
        """Blind transfer: the caller hears music, the first agent leaves once the new party
        answers; if nobody answers the caller is back with the first agent."""
        leg = await self._reach_with_caller_held(acd_call, LegRole.PARTY, kind, target,
                                                 transferring=target)
        self.agents.bridge_in(acd_call, leg)
        await self._hand_over(acd_call, leg)
        return f"transferred to {leg.label}"

    async def _reach_with_caller_held(self, acd_call: AcdCall, role: LegRole, kind: str,
                                      target: str, **details: Any) -> Leg:
        """Hold the caller (music) while ``target`` rings; if nobody answers, the caller is
        back where they were before (``_back_from_failed``) and CommandFailed is raised."""
        bridge = acd_call.bridge
        assert bridge is not None
        held_before = bridge.is_held(CALLER)
        bridge.hold(CALLER)
        await self.report(acd_call, on_hold=True, **details)
        try:
            return await self._reach(acd_call, role, kind, target)
        except CommandFailed:
            await self._back_from_failed(acd_call, held_before)
            raise

    async def _back_from_failed(self, acd_call: AcdCall, held_before: bool) -> None:
        """Nobody answered: the caller is where they were before the attempt (on hold if the
        agent had put them on hold, else back in the conversation)."""
        if acd_call.state is CallState.ENDED or acd_call.bridge is None:
            return
        if held_before:
            await self.report(acd_call, on_hold=True)
            return
        acd_call.bridge.resume(CALLER)
        await self.report(acd_call, on_hold=False)

    async def _hand_over(self, acd_call: AcdCall, leg: Leg) -> None:
        """``leg`` takes the call over from the agent who had it."""
        old = acd_call.agent_leg
        if leg.queued_id is not None:
            leg.role = LegRole.AGENT
            acd_call.agent_leg = leg
            self.agents._reindex(acd_call, leg.queued_id)
        else:
            leg.role = LegRole.PARTY
            acd_call.agent_leg = None
        if old is not None:
            await self._release_agent(old)
            if old.queued_id is not None and old.queued_id != acd_call.queued_id:
                # The first agent's entry is over: not left "on hold" on their desk.
                await self.agents.db(_update, old.queued_id, old.agent_id, False,
                                     {"handed_over_to": leg.label}, lane=acd_call.lane)
        self._retarget_whispers(acd_call)
        if acd_call.bridge is not None:
            acd_call.bridge.resume(CALLER)
        await self.report(acd_call, on_hold=False)

    async def _release_agent(self, leg: Leg) -> None:
        """The agent (or consultee) on ``leg`` leaves the call: their phone is hung up and their
        queue entry ends (they go to wrap-up)."""
        self.agents.hang_up_leg(leg)
        if leg.queued_id is not None:
            await self.agents.db(acd.ended, leg.queued_id, lane=leg.owner.lane)

    def _retarget_whispers(self, acd_call: AcdCall) -> None:
        """A supervisor whispering to the agent who left whispers to the one who took the call
        over; with no agent left (a department took it) the supervisor listens."""
        bridge = acd_call.bridge
        if bridge is None:
            return
        agent = acd_call.agent_leg
        for monitor in acd_call.live_legs(LegRole.MONITOR):
            if monitor.mode != LegMode.WHISPER:
                continue
            if agent is not None and agent.connected:
                bridge.set_mode(monitor.sip_call_id, LegMode.WHISPER,
                                whisper_to=agent.sip_call_id)
            else:
                monitor.mode = LegMode.LISTEN
                bridge.set_mode(monitor.sip_call_id, LegMode.LISTEN)

    async def _to_queue(self, acd_call: AcdCall, queue: str) -> str:
        """Back into the ACD (another queue): the agent leaves at once, the caller waits."""
        entry = await self.agents.db(
            acd.enqueue, call_ref=acd_call.call.call_id, caller=acd_call.call.context.caller,
            target=queue, gateway=self.agents.gateway_id,
            contact_id=acd_call.call.context.contact_id, lane=acd_call.lane)
        if acd_call.state is CallState.ENDED:  # the caller left while the entry was written
            await self.agents.db(acd.abandoned, entry.queued_id, lane=acd_call.lane)
            raise CommandFailed("the call has ended")
        effects = acd_call.change(CallEvent.REQUEUE)
        old = acd_call.agent_leg
        acd_call.agent_leg = None
        self.agents._reindex(acd_call, entry.queued_id)
        acd_call.ring_timeout_s = entry.ring_timeout_s
        if old is not None:
            await self._release_agent(old)
        self.agents.gateway.log(acd_call.call.call_id, "queue", entry.queue)
        self._retarget_whispers(acd_call)
        if Effect.START_WAITING in effects:
            self.agents._start_waiting(acd_call)
        self.agents.kick()
        return f"queued in {entry.queue}"

    async def _consult(self, acd_call: AcdCall, kind: str, target: str) -> str:
        if acd_call.consult_leg is not None:
            raise CommandFailed("a consultation is already going on")
        leg = await self._reach_with_caller_held(acd_call, LegRole.CONSULT, kind, target,
                                                 consulting=target)
        acd_call.consult_leg = leg
        self.agents.bridge_in(acd_call, leg)
        await self.report(acd_call, on_hold=True)
        return f"consulting {leg.label}"

    async def complete_transfer(self, acd_call: AcdCall) -> str:
        leg = acd_call.consult_leg
        if leg is None or not leg.connected:
            raise CommandFailed("no consultation to complete")
        acd_call.consult_leg = None
        await self._hand_over(acd_call, leg)
        return f"transferred to {leg.label}"

    async def _release_consultee(self, acd_call: AcdCall) -> str:
        """The consultee leaves; the caller is resumed and told next (the command's effects)."""
        leg = acd_call.consult_leg
        if leg is None:
            raise CommandFailed("no consultation going on")
        acd_call.consult_leg = None
        await self._release_agent(leg)
        return "back with the caller"

    async def _monitor(self, acd_call: AcdCall, extension: str, mode: LegMode) -> str:
        bridge = acd_call.bridge
        assert bridge is not None
        for leg in acd_call.live_legs(LegRole.MONITOR):
            if leg.label == extension:  # the supervisor is on already: change the mode
                if mode is LegMode.WHISPER and acd_call.agent_leg is None:
                    raise CommandFailed("no agent on the call to whisper to")
                leg.mode = mode
                whisper_to = acd_call.agent_leg.sip_call_id \
                    if mode is LegMode.WHISPER and acd_call.agent_leg else None
                bridge.set_mode(leg.sip_call_id, mode, whisper_to=whisper_to)
                return f"{mode.value}"
        if mode is LegMode.WHISPER and acd_call.agent_leg is None:
            raise CommandFailed("no agent on the call to whisper to")
        found = await self.agents.dial_extension(acd_call, LegRole.MONITOR, extension,
                                                 timeout=NUMBER_RING_S, mode=mode)
        if found is None:
            raise CommandFailed(f"the phone of {extension} did not answer")
        if acd_call.state is CallState.ENDED:
            self.agents.hang_up_leg(found)
            raise CommandFailed("the call has ended")
        self.agents.bridge_in(acd_call, found)
        return f"{mode.value}"

    # --- what the desk sees ------------------------------------------------------------------

    async def report(self, acd_call: AcdCall, *, on_hold: bool | None = None,
                     **details: Any) -> None:
        parties = [{"role": leg.role, "label": leg.label, "mode": leg.mode.value}
                   for leg in acd_call.live_legs()]
        agent = acd_call.agent_leg.agent_id if acd_call.agent_leg else None
        try:
            await self.agents.db(_update, acd_call.queued_id, agent, on_hold,
                                 {"parties": parties, **details}, lane=acd_call.lane)
        except Exception:
            logger.exception("could not report call %s", acd_call.queued_id)
