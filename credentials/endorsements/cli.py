"""``flask credentials ...``: verify a credential file offline, rotate the signing key,
publish status lists, issue endorsements a lost task missed."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup

from lms.platform.extensions import db

credentials_cli = AppGroup("credentials", help="Endorsements and their verification.")


@credentials_cli.command("verify")
@click.argument("credential_file", type=click.Path(exists=True, dir_okay=False,
                                                    path_type=Path))
@click.option("--did-document", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The issuer's DID document as a file (otherwise fetched from its did:web).")
@click.option("--status-list", "status_lists", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A status list credential as a file (otherwise fetched); repeatable.")
@click.option("--allow-http", is_flag=True,
              help="Fetch over plain HTTP (only for a local demo server).")
def verify_command(credential_file: Path, did_document: Path | None,
                   status_lists: tuple[Path, ...], allow_http: bool) -> None:
    """Verify a credential: proof, dates and status. Exit 0 only when it is valid."""
    from credentials.endorsements.json_input import MAX_BYTES, CredentialFormatError, parse
    from credentials.endorsements.verify import NetworkResolver, lists_from_files, verify_credential
    from lms.platform import clock

    try:
        document = parse(did_document.read_bytes()) if did_document else None
        lists = lists_from_files(list(status_lists))
    except CredentialFormatError as error:
        raise click.ClickException(f"cannot read a file given: {error.reason}") from error
    resolver = NetworkResolver(document, lists, allow_http=allow_http)
    # The platform's clock, not the machine's, so a demo or a test can move time forward.
    with credential_file.open("rb") as handle:
        # Never more than the verifier will look at: a huge file is refused, not loaded.
        text = handle.read(MAX_BYTES + 1)
    verdict = verify_credential(text, resolver, now=clock.now())
    click.echo(verdict.line())
    raise SystemExit(0 if verdict.valid else 1)


@credentials_cli.command("rotate-key")
def rotate_key_command() -> None:
    """Retire the signing key and start a new one; old credentials still verify."""
    from credentials.endorsements.keys import rotate_key
    from credentials.endorsements.status import publish_pending

    key = rotate_key()
    publish_pending()
    db.session.commit()
    click.echo(f"New signing key {key.public_key_multibase}; status lists signed with it.")


@credentials_cli.command("publish-status-lists")
def publish_command() -> None:
    """Sign again every status list changed since it was last published."""
    from credentials.endorsements.status import publish_pending

    count = publish_pending()
    db.session.commit()
    click.echo(f"{count} status list(s) published.")


@credentials_cli.command("did-document")
def did_document_command() -> None:
    """Print the DID document (for saving beside credentials verified offline)."""
    from credentials.endorsements.keys import did_document

    click.echo(json.dumps(did_document(), indent=2))
