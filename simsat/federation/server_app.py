"""The ground station: a Flower ServerApp whose main loop is the SimPy mission."""

from __future__ import annotations

from collections.abc import Callable

from flwr.app import Context
from flwr.serverapp import Grid, ServerApp

from simsat.federation.transport import FlowerTransport
from simsat.mission.transport import Transport


def make_server_app(num_satellites: int, operate: Callable[[Transport], None], in_flight: int = 16) -> ServerApp:
    """A ServerApp that connects to the satellites' nodes and hands the transport to `operate`;
    `in_flight`: messages in Flower's hands at a time (a few more than the satellites' workers)."""
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        operate(FlowerTransport(grid, num_satellites, in_flight=in_flight))

    return app
