"""The desk console served on a real port for a real Chromium, in front of in-process services.

The console runs under uvicorn in the test's event loop; its calls to the services go through
an httpx transport that routes each service's host name to that service's app in this process
(the same apps the rest of the suite drives). Selenium is synchronous, so browser scenarios run
in a worker thread (`asyncio.to_thread`) while the loop keeps serving."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

CHROMIUM = os.environ.get("CONSOLE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CONSOLE_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")


class RoutingTransport(httpx.AsyncBaseTransport):
    """`http://<service>.test/...` → that service's ASGI app."""

    def __init__(self, apps: Mapping[str, FastAPI]) -> None:
        self._routes = {f"{name}.test": httpx.ASGITransport(app=app) for name, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._routes[request.url.host].handle_async_request(request)


def upstream_urls(names: list[str]) -> dict[str, str]:
    return {f"{name}_url": f"http://{name}.test" for name in names}


@dataclass
class ServedConsole:
    url: str
    app: FastAPI


@asynccontextmanager
async def served_console(app: FastAPI) -> AsyncIterator[ServedConsole]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", log_level="warning")
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield ServedConsole(url=f"http://127.0.0.1:{port}", app=app)
    finally:
        server.should_exit = True
        await task
        sock.close()


def chromium_available() -> bool:
    return (
        Path(CHROMIUM).exists()
        and Path(CHROMEDRIVER).exists()
        or bool(shutil.which("chromium") and shutil.which("chromedriver"))
    )


@contextmanager
def chromium(download_dir: Path | None = None) -> Iterator[Any]:
    """Headless Debian Chromium through its own chromedriver: nothing is downloaded."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium"))
    for arg in (
        "--headless=new",
        "--no-sandbox",  # root in CI
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,1000",
        "--no-first-run",
        "--disable-extensions",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver_path = CHROMEDRIVER if Path(CHROMEDRIVER).exists() else str(shutil.which("chromedriver"))
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


def axe_violations(driver: Any) -> list[dict[str, Any]]:
    """axe-core (as shipped by the axe-selenium-python package) run in the page."""
    import axe_selenium_python

    script = Path(axe_selenium_python.__file__).parent / "node_modules/axe-core/axe.min.js"
    driver.execute_script(script.read_text())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations));"
    )
    return list(result)
