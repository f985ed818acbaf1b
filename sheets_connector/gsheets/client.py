"""A gspread client for the connector: credentials, one HTTP session with a bounded retry,
the emulator's address, and Google's errors turned into plain messages.

- Credentials: a service-account key file (path from the mapping, else
  ``GOOGLE_APPLICATION_CREDENTIALS``), or an OAuth user login through gspread's browser flow
  (the login is kept in the connector's state folder so it is asked once).  With ``api_url``
  (the local emulator) and no key file, the emulator's fixed token is used.
- Every request goes through gspread's ``HTTPClient`` (so gspread's own calls are used as they
  are); our subclass only swaps ``https://sheets.googleapis.com`` for ``api_url`` when one is
  set.  The session is a google-auth ``AuthorizedSession`` with a urllib3 ``Retry`` mounted:
  429 and 5xx are retried a bounded number of times with exponential backoff (gspread's
  ``BackOffHTTPClient`` never gives up, so it is not used).
- ``SheetsConnection.guard()`` turns gspread/google-auth/requests exceptions into
  ``SourceError`` / ``ConfigError`` whose text says what to do (which email to share the sheet
  with, the link that enables the API, when to try again: see ``errors.py``).  An OAuth login
  Google refuses for good (expired, withdrawn) is removed so the next run signs in again.
  Messages never contain a key or a token.
"""
from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gspread
import requests
from google.auth.credentials import Credentials
from google.auth.exceptions import GoogleAuthError, RefreshError, TransportError
from google.auth.transport.requests import AuthorizedSession, Request
from gspread.exceptions import APIError
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .. import metrics
from ..errors import ConfigError, SourceError
from ..messages.catalog import Msg, msg, said
from ..retry import RetryPolicy, build_retry
from .errors import explain_api_error, explain_refresh_error

SHEETS_API = "https://sheets.googleapis.com"
SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]  # no Drive access: the connector needs none
DEFAULT_RETRIES = 5
DEFAULT_BACKOFF = 2.0  # urllib3 waits 0, 4, 8, 16, 32 s before the 5 retries (capped below)
DEFAULT_BACKOFF_MAX = 32.0
DEFAULT_TIMEOUT = 60.0
OAUTH_TOKEN_FILE = "google-oauth-login.json"
_KEY = re.compile(r"[A-Za-z0-9_-]{20,}")


# --------------------------------------------------------------------------------------------
# Retry: the project's one policy (retry.py), with Google's minute-long quota in mind
# --------------------------------------------------------------------------------------------
def _is_append(method: str, url: str) -> bool:
    # a values:append may already be applied after a 5xx or a cut connection: repeating it could
    # add the rows twice, so it is only retried when Google surely did nothing (429, no connection)
    return ":append" in url


def sheets_policy(total: int = DEFAULT_RETRIES, backoff_factor: float = DEFAULT_BACKOFF,
                  backoff_max: float = DEFAULT_BACKOFF_MAX, timeout: float = DEFAULT_TIMEOUT) -> RetryPolicy:
    """The retry policy of Sheets API requests: the project's RetryPolicy with backoffs long
    enough for a per-minute quota to refill."""
    return RetryPolicy(retries=total, backoff_factor=backoff_factor, backoff_max=backoff_max,
                       retry_after_max=int(DEFAULT_BACKOFF_MAX * 2), read_timeout=timeout)


def sheets_retry(total: int = DEFAULT_RETRIES, backoff_factor: float = DEFAULT_BACKOFF,
                 backoff_max: float = DEFAULT_BACKOFF_MAX) -> Retry:
    """Bounded retries for Sheets API requests (429/5xx, dropped connections, Retry-After obeyed),
    built by the project's one ``build_retry``.  When they are used up the last answer is
    returned, so the caller sees Google's error."""
    return build_retry(sheets_policy(total, backoff_factor, backoff_max), not_idempotent=_is_append)


# --------------------------------------------------------------------------------------------
# HTTP client pointed at Google or the emulator
# --------------------------------------------------------------------------------------------
class SheetsHTTPClient(gspread.HTTPClient):
    """gspread's HTTP client, sending to ``api_url`` instead of Google when one is set."""

    api_url: str | None = None

    def __init__(self, auth: Credentials, session: requests.Session | None = None) -> None:
        super().__init__(auth, session)
        self.auth = auth  # gspread leaves it unset when a session is given

    def request(self, method: str, endpoint: str, *args: Any, **kwargs: Any) -> requests.Response:
        if self.api_url and endpoint.startswith(SHEETS_API):
            endpoint = self.api_url + endpoint[len(SHEETS_API):]
        return super().request(method, endpoint, *args, **kwargs)


def _is_loopback(url: str | None) -> bool:
    host = urlsplit(url or "").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class SheetsConnection:
    """A ready gspread client and who it acts as (for messages and ``check``)."""

    client: gspread.Client
    account: str  # how to name the account in messages (a Said: in the reader's language)
    account_email: str | None  # the address to share a sheet with (service accounts)
    retries: int
    api_url: str | None = None
    login_file: Path | None = None  # the saved OAuth login (auth: oauth); None for a service account

    @property
    def http(self) -> gspread.HTTPClient:
        return self.client.http_client

    @contextmanager
    def guard(self, doing: Msg, sheet: str) -> Iterator[None]:
        """Turn any failure of the calls inside into a ConnectorError about ``doing``."""
        try:
            yield
        except APIError as e:
            raise self.explain(e, doing, sheet) from None
        except RefreshError as e:
            raise self._refused(e) from None
        except (TransportError, requests.ConnectionError, requests.Timeout) as e:
            where = self.api_url or SHEETS_API
            detail = msg("gs.too_slow") if isinstance(e, requests.Timeout) else msg("gs.no_connection")
            raise SourceError(said("gs.unreachable", where=where, doing=doing, detail=detail)) from None
        except GoogleAuthError as e:
            raise SourceError(said("gs.sign_in_failed", doing=doing, name=type(e).__name__)) from None

    def explain(self, e: APIError, doing: Msg, sheet: str) -> SourceError:
        return SourceError(explain_api_error(e, doing, sheet, account=self.account, account_email=self.account_email,
                                             tries=self.retries + 1, oauth=self.login_file is not None))

    def _refused(self, e: RefreshError) -> SourceError:
        removed = None
        if self.login_file is not None and "invalid_grant" in str(e.args[0] if e.args else ""):
            # the saved login can never work again: drop it so the next run opens the browser to sign in
            try:
                self.login_file.unlink()
                removed = str(self.login_file)
            except OSError:
                pass
        return SourceError(explain_refresh_error(e, self.account, oauth=self.login_file is not None,
                                                 login_removed=removed))


# --------------------------------------------------------------------------------------------
# Credentials
# --------------------------------------------------------------------------------------------
def spreadsheet_key(text: str) -> str:
    """The key from a spreadsheet's address (or the key itself); ConfigError if neither."""
    text = text.strip()
    if "/" in text or "." in text:
        try:
            return gspread.utils.extract_id_from_url(text)
        except gspread.exceptions.NoValidUrlKeyFound:
            pass
    elif _KEY.fullmatch(text):
        return text
    raise ConfigError(
        f"source.spreadsheet {text!r} is neither the address of a Google spreadsheet nor its key. Open the sheet "
        "in the browser and copy the whole address (https://docs.google.com/spreadsheets/d/...) into the mapping."
    )


def _read_json(path: Path, where: str) -> dict[str, Any]:
    if not path.exists():
        raise ConfigError(
            f"The Google credentials file {path} ({where}) does not exist. Download the key (JSON) of your service "
            "account from Google Cloud and give its path; see the README, 'Google Sheets setup'."
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"Cannot read the Google credentials file {path} ({where}): {getattr(e, 'strerror', None) or type(e).__name__}.") from None
    except ValueError:
        raise ConfigError(
            f"The Google credentials file {path} ({where}) is not a key file: it is not valid JSON. Download the "
            "key again from Google Cloud (Keys > Add key > JSON) without editing it."
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"The Google credentials file {path} ({where}) is not a key file. Download the key again.")
    return data


def service_account_credentials(path: Path, where: str) -> tuple[Credentials, str]:
    """(credentials, service account email) from a key file; ConfigError if it is not one."""
    from google.oauth2 import service_account

    data = _read_json(path, where)
    kind = data.get("type")
    if kind != "service_account":
        if "installed" in data or "web" in data or kind == "authorized_user":
            raise ConfigError(
                f"{path} ({where}) is an OAuth client file, not a service-account key. Either set auth: oauth under "
                "source in the mapping (to log in as yourself), or download a service-account key (JSON)."
            )
        raise ConfigError(f"{path} ({where}) is not a service-account key file (its type is {kind!r}). Download the key (JSON) of the service account.")
    missing = [k for k in ("client_email", "private_key", "token_uri") if not data.get(k)]
    if missing:
        raise ConfigError(f"The service-account key {path} ({where}) has no {', '.join(missing)}: it is incomplete. Download a new key (JSON).")
    try:
        creds = service_account.Credentials.from_service_account_info(data, scopes=SCOPES)
    except (ValueError, TypeError, IndexError):
        raise ConfigError(
            f"The private key in {path} ({where}) cannot be read: the file was damaged or edited. Download a new key (JSON)."
        ) from None
    return creds, str(data["client_email"])


def oauth_credentials(client_file: Path | None, token_file: Path, where: str) -> Credentials:
    """The saved login of a person, or a new one through the browser (gspread's flow)."""
    from gspread.auth import load_credentials, local_server_flow, store_credentials

    try:
        saved = load_credentials(filename=token_file)
    except (ValueError, OSError):
        saved = None  # a damaged saved login: log in again
    if saved is not None:
        return _local_token_uri(saved, token_file)
    if client_file is None:
        raise ConfigError(
            "auth: oauth needs the OAuth client file: set source.credentials to the JSON file downloaded from "
            "Google Cloud (APIs & Services > Credentials > OAuth client ID > Desktop app)."
        )
    config = _read_json(client_file, where)
    if "installed" not in config and "web" not in config:
        raise ConfigError(f"{client_file} ({where}) is not an OAuth client file (for auth: oauth). Download the 'Desktop app' OAuth client JSON.")
    try:
        creds = local_server_flow(config, SCOPES)
    except Exception as e:  # the browser flow can fail many ways; say so plainly
        raise SourceError(f"Logging in to Google did not finish ({type(e).__name__}). Run again and complete the login in the browser.") from None
    store_credentials(creds, filename=token_file)
    return creds


def _local_token_uri(saved: Credentials, token_file: Path) -> Credentials:
    """google-auth sends every saved login's refresh to Google whatever the file says; a login
    saved against the local emulator (a loopback token_uri) keeps its own, so it can be tested."""
    try:
        uri = json.loads(token_file.read_text(encoding="utf-8")).get("token_uri")
    except (OSError, ValueError, AttributeError):
        return saved
    if not isinstance(uri, str) or not _is_loopback(uri):
        return saved
    from google.oauth2.credentials import Credentials as UserCredentials

    return UserCredentials(token=None, refresh_token=getattr(saved, "refresh_token", None), token_uri=uri,
                           client_id=getattr(saved, "client_id", None), client_secret=getattr(saved, "client_secret", None),
                           scopes=getattr(saved, "scopes", None))


def connect(credentials: Credentials, *, account: str, account_email: str | None = None, api_url: str | None = None,
            retry: Retry | None = None, timeout: float = DEFAULT_TIMEOUT, login_file: Path | None = None) -> SheetsConnection:
    """A gspread Client on one session with bounded retries, pointed at ``api_url`` if given."""
    retry = retry or sheets_retry()
    api_url = api_url.rstrip("/") if api_url else None
    token_uri = getattr(credentials, "_token_uri", None) or getattr(credentials, "token_uri", None)
    token_session = requests.Session()
    token_session.trust_env = not _is_loopback(token_uri)  # a proxy variable must not divert loopback traffic
    session = AuthorizedSession(credentials, auth_request=Request(token_session))
    session.trust_env = not _is_loopback(api_url)
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    metrics.watch(session, "google")
    http_client = type("SheetsHTTPClient", (SheetsHTTPClient,), {"api_url": api_url})
    client = gspread.Client(credentials, session=session, http_client=http_client)
    client.set_timeout((10.0, timeout))
    return SheetsConnection(client, account, account_email, int(retry.total or 0), api_url, login_file)


def connect_source(source: Any, config: Any, environ: Mapping[str, str] | None = None,
                   retry: Retry | None = None) -> SheetsConnection:
    """Connect as a ``GoogleSheetSource`` of a loaded mapping says (see config.py)."""
    env = os.environ if environ is None else environ
    if source.auth == "oauth":
        client_file = config.resolve_path(source.credentials) if source.credentials else None
        token_file = Path(config.state_path()) / OAUTH_TOKEN_FILE
        creds = oauth_credentials(client_file, token_file, config.locate("source", "credentials"))
        return connect(creds, account=said("gs.account_you"), api_url=source.api_url, retry=retry, login_file=token_file)
    if source.credentials:
        path, where = config.resolve_path(source.credentials), config.locate("source", "credentials")
    elif env.get("GOOGLE_APPLICATION_CREDENTIALS"):
        path, where = Path(os.path.expanduser(env["GOOGLE_APPLICATION_CREDENTIALS"])), "from GOOGLE_APPLICATION_CREDENTIALS"
    elif source.api_url and _is_loopback(source.api_url):
        from google.oauth2.credentials import Credentials as TokenCredentials

        from ..sheets_emulator import EMULATOR_ACCOUNT, EMULATOR_TOKEN

        return connect(TokenCredentials(token=EMULATOR_TOKEN), account=said("gs.account_emulator", email=EMULATOR_ACCOUNT),
                       account_email=EMULATOR_ACCOUNT, api_url=source.api_url, retry=retry)
    else:
        raise ConfigError(
            "No Google credentials: set source.credentials in the mapping to the path of your service-account key "
            "(JSON), or set the environment variable GOOGLE_APPLICATION_CREDENTIALS to it. See the README, "
            "'Google Sheets setup', to create one."
        )
    creds, email = service_account_credentials(path, where)
    return connect(creds, account=said("gs.account_sa", email=email), account_email=email, api_url=source.api_url, retry=retry)
