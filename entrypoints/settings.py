"""Settings: one typed object read from ``MFA_*`` environment variables and validated at start-up."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from application.otpauth_names import issuer_problem
from domain.errors import InvalidTotpPolicy
from domain.policy import HashAlgorithm, TotpPolicy

DEVELOPMENT_TOKEN_ISSUER = "urn:mfa-service:development-issuer"  # noqa: S105 - a name, not a secret
DEFAULT_AUDIENCE = "mfa-service"
DEFAULT_TOKEN_ALGORITHMS = ("RS256", "ES256", "EdDSA")
DEVELOPMENT_ADMIN_SCOPE = "mfa-admin"
MIN_PSEUDONYM_KEY_BYTES = 32
KUBERNETES_TOKEN_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")

T = TypeVar("T")


class Profile(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class NotifierKind(StrEnum):
    LOG = "log"
    WEBHOOK = "webhook"


class CipherKind(StrEnum):
    LOCAL = "local"
    VAULT = "vault"


class TokenMode(StrEnum):
    """How bearer tokens are checked: JWTs against the JWKS, opaque tokens by introspection, or both
    (a JWT-shaped token locally, anything else introspected)."""

    JWT = "jwt"
    INTROSPECTION = "introspection"
    BOTH = "both"


class IntrospectionAuthMethod(StrEnum):
    """How the service authenticates to the introspection endpoint (names of RFC 7591 §2)."""

    CLIENT_SECRET_BASIC = "client_secret_basic"  # noqa: S105 - a method's name
    CLIENT_SECRET_POST = "client_secret_post"  # noqa: S105 - a method's name
    PRIVATE_KEY_JWT = "private_key_jwt"


class SettingsError(Exception):
    """Every problem found in the environment, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class VaultConfig:
    """How to reach Vault transit (``MFA_CIPHER=vault``). Secrets never print themselves."""

    addr: str
    token: str | None = field(default=None, repr=False)
    role_id: str | None = None
    secret_id: str | None = field(default=None, repr=False)
    mount: str = "transit"
    key: str = "mfa-totp"
    timeout_seconds: float = 1.5
    namespace: str | None = None
    ca_cert: Path | None = None
    token_file: Path | None = None
    k8s_role: str | None = None
    k8s_token_file: Path = KUBERNETES_TOKEN_FILE
    k8s_mount: str = "kubernetes"
    max_connections: int = 4


@dataclass(frozen=True, slots=True)
class IntrospectionConfig:
    """How to reach the identity provider's RFC 7662 endpoint (``MFA_TOKEN_MODE`` introspection or
    both). The client secret never prints itself."""

    url: str
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    auth_method: IntrospectionAuthMethod = IntrospectionAuthMethod.CLIENT_SECRET_BASIC
    private_key_file: Path | None = None
    timeout_seconds: float = 1.5
    cache_seconds: int = 60
    ca_cert: Path | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    profile: Profile = Profile.DEVELOPMENT
    data_dir: Path = Path("var")
    database_url: str = field(default="", repr=False)
    """May hold the database password (MFA_DATABASE_PASSWORD[_FILE] is put into it): never printed."""
    cipher: CipherKind = CipherKind.LOCAL
    local_key_file: Path = Path("var/secret-encryption.key")
    jwks_url: str | None = None
    jwks_file: Path | None = None
    token_issuer: str = DEVELOPMENT_TOKEN_ISSUER
    token_audience: str = DEFAULT_AUDIENCE
    token_algorithms: tuple[str, ...] = DEFAULT_TOKEN_ALGORITHMS
    required_scope: str | None = None
    account_name_claim: str = "preferred_username"
    token_cache_size: int = 10_000
    issuer: str = "MFA Service"
    totp_policy: TotpPolicy = field(default_factory=TotpPolicy)
    pending_ttl: timedelta = timedelta(minutes=10)
    totp_window: int = 1
    totp_max_drift: int = 0
    max_authenticators: int = 5
    enrollments_per_hour: int = 10
    step_up_max_age: timedelta = timedelta(minutes=5)
    step_up_acr_values: tuple[str, ...] = ()
    max_body_bytes: int = 4096
    max_concurrent_requests: int = 16
    cors_origins: tuple[str, ...] = ()
    log_level: str = "INFO"
    db_pool_size: int = 10
    db_max_overflow: int = 5
    db_pool_timeout_seconds: float = 2.0
    vault: VaultConfig | None = None
    token_mode: TokenMode = TokenMode.JWT
    introspection: IntrospectionConfig | None = None
    notifier: NotifierKind = NotifierKind.LOG
    notify_webhook_url: str | None = None
    notify_webhook_key: str | None = field(default=None, repr=False)
    notify_interval_seconds: float = 2.0
    request_read_timeout_seconds: float = 10.0
    """How long a client may take to send a request's head and body, from its first byte (or
    from the connection's opening): then 408 and the connection is closed."""
    keep_alive_seconds: int = 5
    """How long an idle keep-alive connection stays open between requests."""
    max_connections: int | None = None
    """Open connections per worker process; more are closed at once. None: the process's file
    limit less a reserve for the database pool, Vault and logs."""
    ui_enabled: bool = False
    admin_scope: str = DEVELOPMENT_ADMIN_SCOPE
    build_revision: str = "unknown"
    log_user_key: str | None = field(default=None, repr=False)
    """The key of the user pseudonym in log lines; None: a random key per process."""
    pseudonym_key: str | None = field(default=None, repr=False)
    pseudonym_key_file: Path | None = None
    shutdown_drain_seconds: float = 0.0
    shutdown_grace_seconds: int = 20

    @property
    def pseudonym_key_path(self) -> Path:
        """Where the pseudonym key is read from when it is not given inline; the development
        profile creates it there (not as ``*.key``: that is the local cipher's key ring)."""
        return self.pseudonym_key_file or self.data_dir / "pseudonym-hmac.secret"

    @property
    def is_development(self) -> bool:
        return self.profile is Profile.DEVELOPMENT

    @property
    def uses_development_issuer(self) -> bool:
        return self.jwks_url is None and self.jwks_file is None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Settings:
        """Reads ``MFA_*`` variables. Raises SettingsError listing every problem at once."""
        reader = _Reader(environ)
        profile = reader.choice("MFA_ENV", Profile, Profile.DEVELOPMENT)
        data_dir = Path(reader.text("MFA_DATA_DIR", "var"))
        algorithm = reader.choice("MFA_TOTP_ALGORITHM", HashAlgorithm, HashAlgorithm.SHA1)
        digits = reader.integer("MFA_TOTP_DIGITS", 6)
        period = reader.integer("MFA_TOTP_PERIOD", 30)
        policy = TotpPolicy()
        try:
            policy = TotpPolicy(algorithm, digits, period)
        except InvalidTotpPolicy as error:
            reader.problems.append(f"MFA_TOTP_*: {error}")
        jwks_file = reader.optional("MFA_JWKS_FILE")
        settings = cls(
            profile=profile,
            data_dir=data_dir,
            database_url=_database_url(reader, data_dir),
            cipher=reader.choice("MFA_CIPHER", CipherKind, CipherKind.LOCAL),
            local_key_file=Path(
                reader.text("MFA_LOCAL_KEY_FILE", str(data_dir / "secret-encryption.key"))
            ),
            jwks_url=reader.optional("MFA_JWKS_URL"),
            jwks_file=Path(jwks_file) if jwks_file else None,
            token_issuer=reader.text("MFA_TOKEN_ISSUER", DEVELOPMENT_TOKEN_ISSUER),
            token_audience=reader.text("MFA_TOKEN_AUDIENCE", DEFAULT_AUDIENCE),
            token_algorithms=reader.words("MFA_TOKEN_ALGORITHMS", DEFAULT_TOKEN_ALGORITHMS),
            required_scope=reader.optional("MFA_REQUIRED_SCOPE"),
            account_name_claim=reader.text("MFA_ACCOUNT_NAME_CLAIM", "preferred_username"),
            token_cache_size=reader.integer("MFA_TOKEN_CACHE_SIZE", 10_000, 0, 1_000_000),
            issuer=environ.get("MFA_ISSUER") or "MFA Service",
            totp_policy=policy,
            pending_ttl=timedelta(seconds=reader.integer("MFA_PENDING_TTL_SECONDS", 600, 60, 3600)),
            totp_window=reader.integer("MFA_TOTP_WINDOW", 1, 0, 3),
            totp_max_drift=reader.integer("MFA_TOTP_MAX_DRIFT", 0, 0, 5),
            max_authenticators=reader.integer("MFA_MAX_AUTHENTICATORS", 5, 1, 20),
            enrollments_per_hour=reader.integer("MFA_ENROLLMENTS_PER_HOUR", 10, 1, 1000),
            step_up_max_age=timedelta(
                seconds=reader.integer("MFA_STEP_UP_MAX_AGE_SECONDS", 300, 30, 3600)
            ),
            step_up_acr_values=reader.words("MFA_STEP_UP_ACR_VALUES", ()),
            max_body_bytes=reader.integer("MFA_MAX_BODY_BYTES", 4096, 512, 65536),
            max_concurrent_requests=reader.integer("MFA_MAX_CONCURRENT_REQUESTS", 16, 0, 10_000),
            cors_origins=reader.words("MFA_CORS_ORIGINS", ()),
            log_level=reader.text("MFA_LOG_LEVEL", "INFO").upper(),
            db_pool_size=reader.integer("MFA_DB_POOL_SIZE", 10, 1, 200),
            db_max_overflow=reader.integer("MFA_DB_MAX_OVERFLOW", 5, 0, 200),
            db_pool_timeout_seconds=reader.number("MFA_DB_POOL_TIMEOUT_SECONDS", 2.0, 0.1, 30.0),
            vault=_vault_config(reader),
            token_mode=reader.choice("MFA_TOKEN_MODE", TokenMode, TokenMode.JWT),
            introspection=_introspection_config(reader),
            notifier=reader.choice("MFA_NOTIFIER", NotifierKind, NotifierKind.LOG),
            notify_webhook_url=reader.optional("MFA_NOTIFY_WEBHOOK_URL"),
            notify_webhook_key=reader.secret("MFA_NOTIFY_WEBHOOK_KEY"),
            notify_interval_seconds=reader.number("MFA_NOTIFY_INTERVAL_SECONDS", 2.0, 0.1, 300.0),
            request_read_timeout_seconds=reader.number(
                "MFA_REQUEST_READ_TIMEOUT_SECONDS", 10.0, 0.5, 300.0
            ),
            keep_alive_seconds=reader.integer("MFA_KEEP_ALIVE_SECONDS", 5, 1, 300),
            max_connections=(
                reader.integer("MFA_MAX_CONNECTIONS", 0, 16, 1_000_000)
                if "MFA_MAX_CONNECTIONS" in environ
                else None
            ),
            admin_scope=reader.text("MFA_ADMIN_SCOPE", DEVELOPMENT_ADMIN_SCOPE),
            pseudonym_key=reader.optional("MFA_PSEUDONYM_KEY"),
            pseudonym_key_file=_optional_path(reader, "MFA_PSEUDONYM_KEY_FILE"),
            build_revision=reader.text("MFA_BUILD_REVISION", "unknown"),
            log_user_key=reader.optional("MFA_LOG_USER_KEY"),
            ui_enabled=reader.choice("MFA_UI_ENABLED", _flag, False),
            shutdown_drain_seconds=reader.number("MFA_SHUTDOWN_DRAIN_SECONDS", 0.0, 0.0, 300.0),
            shutdown_grace_seconds=reader.integer("MFA_SHUTDOWN_GRACE_SECONDS", 20, 1, 600),
        )
        reader.problems.extend(settings.cross_checks(environ))
        if reader.problems:
            raise SettingsError(reader.problems)
        return settings

    @classmethod
    def for_database(cls, environ: Mapping[str, str]) -> Settings:
        """Only what a database job (``migrate``, ``purge-expired``) needs: MFA_DATABASE_URL (required
        in production), the pool and the log level. Everything else keeps its default, unchecked."""
        reader = _Reader(environ)
        profile = reader.choice("MFA_ENV", Profile, Profile.DEVELOPMENT)
        data_dir = Path(reader.text("MFA_DATA_DIR", "var"))
        settings = cls(
            profile=profile,
            data_dir=data_dir,
            database_url=_database_url(reader, data_dir),
            log_level=reader.text("MFA_LOG_LEVEL", "INFO").upper(),
            db_pool_size=reader.integer("MFA_DB_POOL_SIZE", 10, 1, 200),
            db_max_overflow=reader.integer("MFA_DB_MAX_OVERFLOW", 5, 0, 200),
            db_pool_timeout_seconds=reader.number("MFA_DB_POOL_TIMEOUT_SECONDS", 2.0, 0.1, 30.0),
        )
        reader.problems.extend(_database_url_problems(settings.database_url))
        if profile is Profile.PRODUCTION and not _given(environ, "MFA_DATABASE_URL"):
            reader.problems.append("production needs MFA_DATABASE_URL=postgresql+asyncpg://…")
        reader.problems.extend(_log_level_problems(settings.log_level))
        if reader.problems:
            raise SettingsError(reader.problems)
        return settings

    @classmethod
    def for_vault(cls, environ: Mapping[str, str]) -> Settings:
        """Only what ``vault-setup`` needs: MFA_VAULT_* and the log level."""
        reader = _Reader(environ)
        settings = cls(
            cipher=CipherKind.VAULT,
            log_level=reader.text("MFA_LOG_LEVEL", "INFO").upper(),
            vault=_vault_config(reader),
        )
        reader.problems.extend(_vault_problems(settings.vault))
        reader.problems.extend(_log_level_problems(settings.log_level))
        if reader.problems:
            raise SettingsError(reader.problems)
        return settings

    def cross_checks(self, environ: Mapping[str, str]) -> list[str]:
        """Rules across settings: what each profile refuses."""
        found: list[str] = []
        found.extend(_database_url_problems(self.database_url))
        issuer_trouble = issuer_problem(self.issuer, self.totp_policy)
        if issuer_trouble is not None:
            found.append(f"MFA_ISSUER {issuer_trouble}")
        if self.cipher is CipherKind.VAULT:
            found.extend(_vault_problems(self.vault))
        if self.notifier is NotifierKind.WEBHOOK and not (
            self.notify_webhook_url and self.notify_webhook_key
        ):
            found.append(
                "MFA_NOTIFIER=webhook needs MFA_NOTIFY_WEBHOOK_URL and MFA_NOTIFY_WEBHOOK_KEY"
            )
        found.extend(_token_mode_problems(self.token_mode, self.introspection))
        if self.jwks_url and self.jwks_file:
            found.append("set MFA_JWKS_URL or MFA_JWKS_FILE, not both")
        if self.jwks_url and not self.jwks_url.startswith(("https://", "http://127.0.0.1")):
            found.append("MFA_JWKS_URL must use https")
        found.extend(_log_level_problems(self.log_level))
        found.extend(self._admin_problems())
        if self.profile is Profile.PRODUCTION:
            if not environ.get("MFA_ADMIN_SCOPE", "").strip():
                found.append(
                    "production needs MFA_ADMIN_SCOPE, the scope of helpdesk agents' tokens"
                )
            if self.pseudonym_key is None and self.pseudonym_key_file is None:
                found.append(
                    "production needs MFA_PSEUDONYM_KEY or MFA_PSEUDONYM_KEY_FILE (the key of "
                    "erased users' pseudonyms, at least 32 bytes)"
                )
            if self.uses_development_issuer and self.token_mode is not TokenMode.INTROSPECTION:
                found.append(
                    "production needs MFA_JWKS_URL or MFA_JWKS_FILE of the identity provider"
                )
            if self.token_issuer == DEVELOPMENT_TOKEN_ISSUER or "MFA_TOKEN_ISSUER" not in environ:
                found.append("production needs MFA_TOKEN_ISSUER, the identity provider's issuer")
            if "MFA_TOKEN_AUDIENCE" not in environ:
                found.append("production needs MFA_TOKEN_AUDIENCE")
            if "MFA_ISSUER" not in environ:
                found.append("production needs MFA_ISSUER, the name shown in authenticator apps")
            if self.cipher is CipherKind.LOCAL:
                found.append("production refuses the local development key: set MFA_CIPHER=vault")
            if not _given(environ, "MFA_DATABASE_URL") or not self.database_url.startswith(
                "postgresql"
            ):
                found.append("production needs MFA_DATABASE_URL=postgresql+asyncpg://…")
        return found

    def _admin_problems(self) -> list[str]:
        found: list[str] = []
        if len(self.admin_scope.split()) != 1:
            found.append("MFA_ADMIN_SCOPE must be one scope value")
        if self.admin_scope == self.required_scope:
            found.append("MFA_ADMIN_SCOPE must differ from MFA_REQUIRED_SCOPE")
        if self.pseudonym_key is not None and self.pseudonym_key_file is not None:
            found.append("set MFA_PSEUDONYM_KEY or MFA_PSEUDONYM_KEY_FILE, not both")
        if (
            self.pseudonym_key is not None
            and len(self.pseudonym_key.encode()) < MIN_PSEUDONYM_KEY_BYTES
        ):
            found.append(f"MFA_PSEUDONYM_KEY must be at least {MIN_PSEUDONYM_KEY_BYTES} bytes")
        return found


def _optional_path(reader: _Reader, name: str) -> Path | None:
    value = reader.optional(name)
    return Path(value) if value else None


DATABASE_DRIVERS = ("postgresql+asyncpg", "sqlite+aiosqlite")


def _given(environ: Mapping[str, str], name: str) -> bool:
    """Whether the operator set ``name`` or its ``name_FILE``."""
    return bool(environ.get(name, "").strip() or environ.get(f"{name}_FILE", "").strip())


def _database_url(reader: _Reader, data_dir: Path) -> str:
    """MFA_DATABASE_URL[_FILE], with MFA_DATABASE_PASSWORD[_FILE] put in if given."""
    url = reader.secret("MFA_DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'mfa.sqlite3'}"
    password = reader.secret("MFA_DATABASE_PASSWORD")
    if password is None:
        return url
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    if parsed.password:
        reader.problems.append(
            "MFA_DATABASE_URL holds a password and MFA_DATABASE_PASSWORD[_FILE] another: keep one"
        )
        return url
    return parsed.set(password=password).render_as_string(hide_password=False)


def _database_url_problems(url: str) -> list[str]:
    """The URL must name a driver the service ships; the URL itself is never quoted (password)."""
    try:
        driver = make_url(url).drivername
    except ArgumentError:
        return ["MFA_DATABASE_URL is not a database URL (postgresql+asyncpg://user@host:5432/name)"]
    if driver not in DATABASE_DRIVERS:
        return [
            f"MFA_DATABASE_URL names the driver {driver!r}: use postgresql+asyncpg://… "
            "(Postgres) or sqlite+aiosqlite:///… (the embedded default)"
        ]
    return []


def _log_level_problems(level: str) -> list[str]:
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        return ["MFA_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR"]
    return []


def _vault_config(reader: _Reader) -> VaultConfig | None:
    addr = reader.optional("MFA_VAULT_ADDR")
    if addr is None:
        return None
    ca_cert = reader.optional("MFA_VAULT_CACERT")
    token_file = reader.optional("MFA_VAULT_TOKEN_FILE")
    return VaultConfig(
        addr=addr,
        token=reader.optional("MFA_VAULT_TOKEN"),  # MFA_VAULT_TOKEN_FILE: token_file, re-read live
        role_id=reader.secret("MFA_VAULT_ROLE_ID"),
        secret_id=reader.secret("MFA_VAULT_SECRET_ID"),
        mount=reader.text("MFA_VAULT_MOUNT", "transit"),
        key=reader.text("MFA_VAULT_KEY", "mfa-totp"),
        timeout_seconds=reader.number("MFA_VAULT_TIMEOUT", 1.5, 0.1, 10.0),
        namespace=reader.optional("MFA_VAULT_NAMESPACE"),
        ca_cert=Path(ca_cert) if ca_cert else None,
        token_file=Path(token_file) if token_file else None,
        k8s_role=reader.optional("MFA_VAULT_K8S_ROLE"),
        k8s_token_file=Path(reader.text("MFA_VAULT_K8S_TOKEN_FILE", str(KUBERNETES_TOKEN_FILE))),
        k8s_mount=reader.text("MFA_VAULT_K8S_MOUNT", "kubernetes"),
        max_connections=reader.integer("MFA_VAULT_MAX_CONNECTIONS", 4, 1, 64),
    )


def _vault_problems(vault: VaultConfig | None) -> list[str]:
    if vault is None:
        return ["MFA_CIPHER=vault needs MFA_VAULT_ADDR"]
    found = []
    if not vault.addr.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        found.append("MFA_VAULT_ADDR must use https (plain http only on loopback)")
    approle = vault.role_id is not None or vault.secret_id is not None
    if approle and (vault.role_id is None or vault.secret_id is None):
        found.append("AppRole needs both MFA_VAULT_ROLE_ID and MFA_VAULT_SECRET_ID")
    chosen = [
        vault.token is not None,
        vault.token_file is not None,
        approle,
        vault.k8s_role is not None,
    ]
    if sum(chosen) != 1:
        found.append(
            "Vault credentials: set exactly one of them: MFA_VAULT_TOKEN, MFA_VAULT_TOKEN_FILE, "
            "MFA_VAULT_ROLE_ID + MFA_VAULT_SECRET_ID (AppRole) or MFA_VAULT_K8S_ROLE (Kubernetes)"
        )
    return found


def _introspection_config(reader: _Reader) -> IntrospectionConfig | None:
    url = reader.optional("MFA_INTROSPECTION_URL")
    if url is None:
        return None
    key_file = reader.optional("MFA_INTROSPECTION_PRIVATE_KEY_FILE")
    ca_cert = reader.optional("MFA_INTROSPECTION_CACERT")
    default_method = (
        IntrospectionAuthMethod.PRIVATE_KEY_JWT
        if key_file
        else IntrospectionAuthMethod.CLIENT_SECRET_BASIC
    )
    return IntrospectionConfig(
        url=url,
        client_id=reader.optional("MFA_INTROSPECTION_CLIENT_ID"),
        client_secret=reader.secret("MFA_INTROSPECTION_CLIENT_SECRET"),
        auth_method=reader.choice(
            "MFA_INTROSPECTION_AUTH_METHOD", IntrospectionAuthMethod, default_method
        ),
        private_key_file=Path(key_file) if key_file else None,
        timeout_seconds=reader.number("MFA_INTROSPECTION_TIMEOUT", 1.5, 0.1, 10.0),
        cache_seconds=reader.integer("MFA_INTROSPECTION_CACHE_SECONDS", 60, 0, 600),
        ca_cert=Path(ca_cert) if ca_cert else None,
    )


def _token_mode_problems(mode: TokenMode, introspection: IntrospectionConfig | None) -> list[str]:
    if mode is TokenMode.JWT:
        if introspection is not None:
            return [
                "MFA_INTROSPECTION_URL is set but MFA_TOKEN_MODE is jwt: "
                "set MFA_TOKEN_MODE=introspection or both, or unset MFA_INTROSPECTION_URL"
            ]
        return []
    if introspection is None:
        return [f"MFA_TOKEN_MODE={mode} needs MFA_INTROSPECTION_URL"]
    found = []
    if not introspection.url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        found.append("MFA_INTROSPECTION_URL must use https (plain http only on loopback)")
    if introspection.client_id is None:
        found.append("token introspection needs MFA_INTROSPECTION_CLIENT_ID")
    method = introspection.auth_method
    if method is IntrospectionAuthMethod.PRIVATE_KEY_JWT:
        if introspection.private_key_file is None:
            found.append("private_key_jwt needs MFA_INTROSPECTION_PRIVATE_KEY_FILE")
        if introspection.client_secret is not None:
            found.append("private_key_jwt signs with a key: unset MFA_INTROSPECTION_CLIENT_SECRET")
    else:
        if introspection.client_secret is None:
            found.append(
                f"{method} needs MFA_INTROSPECTION_CLIENT_SECRET or "
                "MFA_INTROSPECTION_CLIENT_SECRET_FILE"
            )
        if introspection.private_key_file is not None:
            found.append(
                f"MFA_INTROSPECTION_PRIVATE_KEY_FILE is set but the method is {method}: "
                "set MFA_INTROSPECTION_AUTH_METHOD=private_key_jwt"
            )
    return found


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_FLAGS = {"true": True, "1": True, "yes": True, "on": True}
_FLAGS |= {"false": False, "0": False, "no": False, "off": False}


def _flag(value: str) -> bool:
    """``true``/``1``/``yes``/``on`` or ``false``/``0``/``no``/``off``; else ValueError."""
    try:
        return _FLAGS[value.lower()]
    except KeyError:
        raise ValueError(value) from None


class _Reader:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.problems: list[str] = []

    def optional(self, name: str) -> str | None:
        value = self._environ.get(name, "").strip()
        return value or None

    def secret(self, name: str) -> str | None:
        """``name``'s value, or the content of the file ``name_FILE`` names (one of them)."""
        value = self.optional(name)
        path = self.optional(f"{name}_FILE")
        if path is None:
            return value
        if value is not None:
            self.problems.append(f"set {name} or {name}_FILE, not both")
            return value
        try:
            content = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            cause = getattr(error, "strerror", None) or type(error).__name__
            self.problems.append(f"{name}_FILE {path} cannot be read: {cause}")
            return None
        if not content:
            self.problems.append(f"{name}_FILE is empty")
            return None
        return content

    def text(self, name: str, default: str) -> str:
        return self.optional(name) or default

    def words(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.optional(name)
        if value is None:
            return default
        return tuple(word for word in value.replace(",", " ").split() if word)

    def integer(
        self, name: str, default: int, low: int | None = None, high: int | None = None
    ) -> int:
        value = self.optional(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            self.problems.append(f"{name} must be an integer, not {value!r}")
            return default
        if (low is not None and number < low) or (high is not None and number > high):
            self.problems.append(f"{name} must be between {low} and {high}")
            return default
        return number

    def number(self, name: str, default: float, low: float, high: float) -> float:
        value = self.optional(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            self.problems.append(f"{name} must be a number of seconds, not {value!r}")
            return default
        if not low <= number <= high:
            self.problems.append(f"{name} must be between {low} and {high}")
            return default
        return number

    def choice(self, name: str, kind: Callable[[str], T], default: T) -> T:
        value = self.optional(name)
        if value is None:
            return default
        try:
            return kind(value)
        except ValueError:
            self.problems.append(f"{name} has an unknown value {value!r}")
            return default
