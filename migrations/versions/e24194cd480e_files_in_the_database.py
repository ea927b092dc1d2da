"""files in the database: stored_file and its chunks; evidence files move in

Revision ID: e24194cd480e
Revises: 2b5e084c31e3
Create Date: 2026-12-03 18:39:31.169894

Every evidence file (attachment, action_evidence) moves from the uploads/ folder of the instance
folder (SURVEY_INSTANCE_PATH) of the server running the upgrade into stored_file and
stored_file_chunk rows. A row whose file that folder does not hold still gets its stored_file,
with the size and SHA-256 recorded for it, its old name in `origin` and no chunks: that is the
record of the missing file. Its download is a 404 (recorded in the audit trail), `flask files
check` lists it, and `flask files load DIR` brings it in from another server's uploads folder.
The folder itself is left as it is.

Stop every app server for this upgrade: an old server's evidence upload would be refused once
the column it writes is gone. Register files waiting for their apply (instance/register-uploads/)
are not moved: they expire within two hours anyway, and such a file is uploaded again.

The chunk size and the loop that writes chunks repeat services/files.py on purpose: this
migration must not change when the service does. The downgrade writes every file back to
uploads/ under its old name (a new random one for files uploaded since).
"""
import hashlib
import logging
import secrets
from pathlib import Path

from alembic import op
import sqlalchemy as sa
from flask import current_app


# revision identifiers, used by Alembic.
revision = 'e24194cd480e'
down_revision = '2b5e084c31e3'
branch_labels = None
depends_on = None

CHUNK_SIZE = 256 * 1024
EVIDENCE = ("attachment", "action_evidence")

log = logging.getLogger("alembic.runtime.migration")

stored_file = sa.table(
    "stored_file",
    sa.column("id", sa.Integer),
    sa.column("size", sa.BigInteger),
    sa.column("sha256", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("origin", sa.String),
)
chunk = sa.table(
    "stored_file_chunk",
    sa.column("file_id", sa.Integer),
    sa.column("part", sa.Integer),
    sa.column("data", sa.LargeBinary),
)


def _evidence(name):
    return sa.table(
        name,
        sa.column("id", sa.Integer),
        sa.column("stored_name", sa.String),
        sa.column("file_id", sa.Integer),
        sa.column("size", sa.Integer),
        sa.column("sha256", sa.String),
        sa.column("uploaded_at", sa.DateTime(timezone=True)),
    )


def _uploads() -> Path:
    return Path(current_app.instance_path) / "uploads"


def upgrade():
    op.create_table('stored_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('origin', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_file')),
    sa.UniqueConstraint('origin', name=op.f('uq_stored_file_origin'))
    )
    op.create_table('stored_file_chunk',
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('part', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['stored_file.id'], name=op.f('fk_stored_file_chunk_file_id_stored_file'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('file_id', 'part', name=op.f('pk_stored_file_chunk'))
    )
    op.create_table('register_upload',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['stored_file.id'], name=op.f('fk_register_upload_file_id_stored_file')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_register_upload_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_register_upload')),
    sa.UniqueConstraint('file_id', name=op.f('uq_register_upload_file_id'))
    )
    with op.batch_alter_table('register_upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_register_upload_created_at'), ['created_at'], unique=False)

    for name in EVIDENCE:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column('file_id', sa.Integer(), nullable=True))
    missing = [gone for name in EVIDENCE for gone in _move_in(name)]
    if missing:
        log.warning(
            "%d evidence file(s) not found in %s, recorded without their bytes (a download is "
            "a 404): %s. Bring them in with `flask files load DIR` from the folder that holds "
            "them; `flask files check` lists what is still missing.",
            len(missing), _uploads(), ", ".join(missing),
        )
    for name in EVIDENCE:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.alter_column('file_id', existing_type=sa.Integer(), nullable=False)
            batch_op.drop_constraint(batch_op.f(f'uq_{name}_stored_name'), type_='unique')
            batch_op.create_unique_constraint(batch_op.f(f'uq_{name}_file_id'), ['file_id'])
            batch_op.create_foreign_key(batch_op.f(f'fk_{name}_file_id_stored_file'), 'stored_file', ['file_id'], ['id'])
            batch_op.drop_column('stored_name')


def _move_in(name):
    """Store each file of one table; the names of those the folder does not hold."""
    bind, table, missing = op.get_bind(), _evidence(name), []
    rows = bind.execute(
        sa.select(table.c.id, table.c.stored_name, table.c.size, table.c.sha256, table.c.uploaded_at)
        .order_by(table.c.id)
    ).all()
    for row in rows:
        file_id = bind.execute(
            sa.insert(stored_file)
            .values(size=row.size, sha256=row.sha256, created_at=row.uploaded_at, origin=row.stored_name)
            .returning(stored_file.c.id)
        ).scalar_one()
        path = _uploads() / row.stored_name
        if path.is_file():
            size, digest = _write(bind, file_id, path)
            bind.execute(sa.update(stored_file).where(stored_file.c.id == file_id).values(size=size, sha256=digest))
        else:
            missing.append(f"{name} {row.id} ({row.stored_name})")
        bind.execute(sa.update(table).where(table.c.id == row.id).values(file_id=file_id))
    return missing


def _write(bind, file_id, path):
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as stream:
        for part, data in enumerate(iter(lambda: stream.read(CHUNK_SIZE), b"")):
            digest.update(data)
            size += len(data)
            bind.execute(sa.insert(chunk).values(file_id=file_id, part=part, data=data))
    return size, digest.hexdigest()


def downgrade():
    for name in EVIDENCE:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column('stored_name', sa.VARCHAR(length=64), nullable=True))
    for name in EVIDENCE:
        _write_out(name)
    for name in EVIDENCE:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.alter_column('stored_name', existing_type=sa.VARCHAR(length=64), nullable=False)
            batch_op.drop_constraint(batch_op.f(f'fk_{name}_file_id_stored_file'), type_='foreignkey')
            batch_op.drop_constraint(batch_op.f(f'uq_{name}_file_id'), type_='unique')
            batch_op.create_unique_constraint(batch_op.f(f'uq_{name}_stored_name'), ['stored_name'])
            batch_op.drop_column('file_id')

    with op.batch_alter_table('register_upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_register_upload_created_at'))

    op.drop_table('register_upload')
    op.drop_table('stored_file_chunk')
    op.drop_table('stored_file')


def _write_out(name):
    """Each stored file of one table back to the uploads folder, a chunk at a time; a file
    recorded as missing stays missing."""
    bind, table = op.get_bind(), _evidence(name)
    rows = bind.execute(
        sa.select(table.c.id, table.c.file_id, stored_file.c.origin)
        .join(stored_file, stored_file.c.id == table.c.file_id)
        .order_by(table.c.id)
    ).all()
    _uploads().mkdir(parents=True, exist_ok=True)
    for row in rows:
        stored_name = row.origin or secrets.token_hex(16)
        pieces = _chunks_of(bind, row.file_id)
        first = next(pieces, None)
        if first is not None:
            with (_uploads() / stored_name).open("wb") as out:
                out.write(first)
                for data in pieces:
                    out.write(data)
        bind.execute(sa.update(table).where(table.c.id == row.id).values(stored_name=stored_name))


def _chunks_of(bind, file_id):
    query = sa.select(chunk.c.data).where(chunk.c.file_id == file_id)
    part = 0
    while (data := bind.execute(query.where(chunk.c.part == part)).scalar()) is not None:
        yield data
        part += 1
