"""The console after its engine stopped (a storage fault, or shutting down): a command
says so in one line in the window, and nothing reaches the crash dialog."""

from __future__ import annotations

import pytest
from helpers import seed_market

from app.core.drivers.memory import MemoryDriver
from app.core.engine.settings import EngineSettings
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.service import EngineService, EngineStopped
from app.core.storage.errors import Fault, StorageFault
from app.ui.window.main_window import MainWindow


def test_commands_after_the_engine_stopped_say_so_in_one_line(qtbot, db) -> None:
    seed_market(db, accounts=2)
    service = EngineService(db, lambda _m: MemoryDriver(), EngineSettings(rollup_s=0.05))
    service.start()
    order_id = service.submit(
        OrderSpec("Client", "mem", [LineSpec("A1", 1, "P1")], hold=True)
    ).result(timeout=10)
    window = MainWindow(db, service)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: bool(window.orders_view.orders.rows))
    # The database refused a write: the engine stops its purchases and its loop ends.
    service.supervisor.ctx.report_fault(StorageFault(Fault.DISK_FULL, "database or disk is full"))
    qtbot.waitUntil(lambda: not service.running)

    window.orders_view.selectRow(0)
    window.menu_actions["start"].trigger()  # resume the held Order: the engine cannot

    def said() -> list[str]:  # the error box's messages, one paragraph each
        box = window.error_box
        return box.text().split("\n\n") if box is not None and box.isVisible() else []

    qtbot.waitUntil(lambda: any(m.startswith("The engine has stopped") for m in said()))
    message = next(m for m in said() if m.startswith("The engine has stopped"))
    assert message == (
        "The engine has stopped, so nothing was done: the disk is full; free some space "
        "(database or disk is full). Start the console again."
    )
    assert not any("Event loop is closed" in m for m in said())
    with pytest.raises(EngineStopped):  # every command says the same, at once
        service.pause(order_id).result(timeout=1)
    service.stop()
