"""The desk console served on a real port for a real Chromium, in front of in-process services.

The console runs under uvicorn in the test's event loop; its calls to the services go through
an httpx transport that routes each service's host name to that service's app in this process
(the same apps the rest of the suite drives). Selenium is synchronous, so browser scenarios run
in a worker thread (`asyncio.to_thread`) while the loop keeps serving."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn
from fastapi import FastAPI

from services.console.app import create_app as create_console
from services.console.settings import ConsoleSettings
from tests.support.patient import patiently

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


@asynccontextmanager
async def console_client(
    apps: Mapping[str, FastAPI], keyring_file: str, *, base_url: str = "https://console.test"
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the console app in this process, in front of these services' apps."""
    settings = ConsoleSettings(**upstream_urls(list(apps)), keyring_file=keyring_file)
    app = create_console(settings, transport=RoutingTransport(apps))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=base_url
    ) as client:
        yield client


class Console:
    """A person's client of the console (its cookies are `Secure`: kept by hand)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.cookies: dict[str, str] = {}

    async def request(
        self, method: str, url: str, headers_extra: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        headers.update(headers_extra or {})
        # The hostile probes send hundreds of requests a second on one person's key; on a quiet
        # machine that passes the services' rate limit (100/s), and the console says so (429,
        # "retry in 1 s"): it waits as told (`patiently`), keeping every answer's cookies.

        async def send() -> httpx.Response:
            response = await self.client.request(method, url, headers=headers, **kw)
            self.cookies.update(response.cookies.items())
            return response

        return await patiently(send, tries=10)

    async def submit(self, method: str, url: str, form: dict[str, str]) -> httpx.Response:
        """A form as a hostile client encodes it: a lone surrogate as its UTF-8 bytes too."""
        encoded = urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in form.items()})
        if method == "GET":
            return await self.request("GET", f"{url}?{encoded}")
        content_type = {"content-type": "application/x-www-form-urlencoded"}
        return await self.request("POST", url, content=encoded, headers_extra=content_type)

    async def csrf(self, path: str = "/") -> str:
        page = await self.request("GET", path)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None, page.text[:300]
        return token.group(1)

    async def sign_in(self, key: str) -> None:
        token = await self.csrf("/sign-in")
        r = await self.request("POST", "/sign-in", data={"key": key, "csrf_token": token})
        assert r.status_code == 303, r.text[:300]


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
