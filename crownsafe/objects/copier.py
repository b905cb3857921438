"""Copy every object of an S3 bucket into an Azure container, verified and resumable.

Flow of `ObjectMigrator.run()`:
1. plan: list the source (`iter_blobs`), map names (crownsafe.objects.keys) and upsert
   one ledger row per object; rows already verified and unchanged are skipped;
2. copy: a ThreadPoolExecutor works through the unverified rows, claimed a few dozen at
   a time (status `copying`, attempts + 1, committed before any byte moves). Per object:
   HEAD the source, map its metadata, stream its chunks into
   `upload_file` (content type and metadata kept) while hashing them, then verify the
   target: size, content type, metadata and a sha256 of the target's bytes we compute
   ourselves (S3 multipart ETags are not MD5s, Azure ETags are opaque). Only then is the
   row marked `verified`. A row left in `copying` by a killed run is first checked
   against the target (sizes, properties, sha256 on both sides) and adopted without a
   second upload when it matches;
3. rows: stored S3 locations are rewritten for verified objects only
   (crownsafe.objects.rows).

Transient storage errors (throttling, unavailability) and verification mismatches are
retried per object (tenacity, `max_attempts`); the clients' own SDK retries are off, so
this is the only retry layer. Clients are made per worker thread by the factories.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from itertools import islice
from typing import TextIO

from sqlalchemy import Engine
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from crownsafe.errors import (
    BlobNotFoundError,
    NonRetryableUploadError,
    StorageError,
    StorageThrottledError,
    StorageUnavailableError,
)
from crownsafe.objects.keys import MappedMetadata, map_metadata, target_blob_name
from crownsafe.objects.ledger import Ledger, PlannedObject, TodoObject
from crownsafe.objects.rows import S3UrlMatcher, rewrite_rows
from crownsafe.objects.streams import ChunkReader, Digest, digest_chunks
from crownsafe.objects.tally import MigrationOptions, MigrationTally
from crownsafe.storage.base import BlobInfo, StorageClient
from crownsafe.storage.urls import to_blob_uri

__all__ = ["ClientFactory", "ObjectMigrator", "VerificationMismatch"]

ClientFactory = Callable[[], StorageClient]


class VerificationMismatch(Exception):
    """The target copy differs from the source (size, properties or sha256)."""


def _wait(state: RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome else None
    hinted: object = getattr(error, "retry_after", None)
    backoff = min(0.2 * 2.0 ** (state.attempt_number - 1), 5.0)
    if isinstance(hinted, int | float):
        return max(backoff, float(hinted))
    return backoff


class ObjectMigrator:
    """One migration run of `options.source_bucket` into `options.target_container`."""

    def __init__(
        self,
        options: MigrationOptions,
        engine: Engine,
        source_factory: ClientFactory,
        target_factory: ClientFactory,
        *,
        out: TextIO = sys.stderr,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.options, self.engine, self.out = options, engine, out
        self.clock, self.sleep = clock, sleep
        self._factories = (source_factory, target_factory)
        self._local = threading.local()
        self._clients: list[StorageClient] = []
        self._lock = threading.Lock()
        self.ledger = Ledger(engine, options.source_bucket, options.target_container)
        self.tally = MigrationTally(
            source=f"s3://{options.source_bucket}",
            target=f"azure://{options.target_container}",
            dry_run=options.dry_run,
        )

    # clients -------------------------------------------------------------------------
    def _pair(self) -> tuple[StorageClient, StorageClient]:
        pair: tuple[StorageClient, StorageClient] | None = getattr(self._local, "pair", None)
        if pair is None:
            pair = (self._factories[0](), self._factories[1]())
            self._local.pair = pair
            with self._lock:
                self._clients.extend(pair)
        return pair

    def _close_clients(self) -> None:
        for client in self._clients:
            try:
                client.close()
            except Exception as exc:  # closing must not hide the tally
                self._say(f"closing a client failed: {type(exc).__name__}")
        self._clients.clear()

    # run -----------------------------------------------------------------------------
    def run(self) -> MigrationTally:
        started = self.clock()
        self.ledger.check_schema()
        if not self.options.dry_run:
            self.ledger.acquire()
        try:
            self._plan()
            if not self.options.dry_run:
                began = self.clock()
                self._copy_all()
                self.tally.copy_duration_s = round(self.clock() - began, 3)
            self.tally.verified_total = self.ledger.counts().get("verified", 0)
            if self.options.rewrite_urls:
                self._rewrite()
        finally:
            self.ledger.release()
            self._close_clients()
        self.tally.duration_s = round(self.clock() - started, 3)
        self._say(self._summary())
        return self.tally

    def _plan(self) -> None:
        source, _ = self._pair()
        batch: list[PlannedObject] = []
        for info in source.iter_blobs():
            target = target_blob_name(info.name)
            self.tally.objects += 1
            self.tally.bytes += info.size
            self.tally.blob_names_mapped += target != info.name
            batch.append(PlannedObject(info.name, target, info.size, info.etag))
            if len(batch) >= 500:
                self._plan_batch(batch)
                batch = []
        if batch:
            self._plan_batch(batch)
        self._say(
            f"planned {self.tally.objects} objects ({self.tally.bytes / 1e6:.1f} MB): "
            f"{self.tally.skipped} already verified"
        )

    def _plan_batch(self, batch: list[PlannedObject]) -> None:
        known = self.ledger.known([obj.key for obj in batch])
        to_copy: list[PlannedObject] = []
        for obj in batch:
            status, size, etag = known.get(obj.key, ("new", -1, None))
            if status == "verified" and size == obj.size and etag == obj.etag:
                self.tally.skipped += 1
            else:
                to_copy.append(obj)
        if self.options.dry_run:
            self._dry_run_batch(to_copy)
        else:
            self.ledger.plan(batch)

    def _dry_run_batch(self, objects: list[PlannedObject]) -> None:
        """Count what the real run will do with `objects`: HEAD each source object (in
        parallel, `workers` at a time) and map its metadata as the copy would."""
        with ThreadPoolExecutor(self.options.workers, thread_name_prefix="dry-run") as pool:
            outcomes = list(pool.map(self._dry_run_one, objects))
        tally = self.tally
        for obj, (renamed, problem) in zip(objects, outcomes, strict=True):
            if problem is not None:
                tally.would_fail += 1
                line = f"would fail {obj.key!r}: {problem}"
            else:
                tally.would_copy += 1
                tally.would_copy_bytes += obj.size
                tally.would_rename_metadata_keys += renamed
                renames = " (metadata keys renamed)" if renamed else ""
                line = f"would copy {obj.key!r} -> {obj.target_name!r} ({obj.size} B){renames}"
            if len(tally.plan) < self.options.list_limit:
                tally.plan.append(line)

    def _dry_run_one(self, obj: PlannedObject) -> tuple[bool, str | None]:
        source, _ = self._pair()
        try:
            head = source.head_object(obj.key)
            mapped = map_metadata(head.metadata, blob_name=obj.key)
        except StorageError as exc:
            return False, str(exc)
        return mapped.ledger_record() is not None, None

    def _copy_all(self) -> None:
        todo = self.ledger.todo()
        self._done = 0
        self._todo_total = self.tally.objects - self.tally.skipped
        limit = self.options.workers * 4
        with ThreadPoolExecutor(self.options.workers, thread_name_prefix="migrate") as pool:
            running: set[Future[None]] = set()
            while group := list(islice(todo, limit)):
                self.ledger.claim([item.id for item in group])
                for item in group:
                    if len(running) >= limit:
                        finished, running = wait(running, return_when=FIRST_COMPLETED)
                        _raise_unexpected(finished)
                    running.add(pool.submit(self._migrate, item))
            finished, _ = wait(running)
            _raise_unexpected(finished)

    def _rewrite(self) -> None:
        _, target = self._pair()
        endpoints = self.options.s3_endpoints
        matcher = S3UrlMatcher(self.options.source_bucket, endpoints)
        container, style = self.options.target_container, self.options.url_style

        def url(name: str) -> str:
            return to_blob_uri(container, name) if style == "blob" else target.get_blob_url(name)

        result = rewrite_rows(self.engine, self.ledger, matcher, url, dry_run=self.options.dry_run)
        self.tally.url_rows_rewritten = result.rewritten
        self.tally.url_rows_unresolved = result.unresolved
        self.tally.unresolved_sample = result.unresolved_sample

    # one object ----------------------------------------------------------------------
    def _migrate(self, item: TodoObject) -> None:
        retrying = Retrying(
            stop=stop_after_attempt(self.options.max_attempts),
            wait=_wait,
            retry=retry_if_exception_type(
                (
                    StorageThrottledError,
                    StorageUnavailableError,
                    NonRetryableUploadError,  # retryable here: each attempt re-reads the source
                    VerificationMismatch,
                )
            ),
            sleep=self.sleep,
            reraise=True,
        )
        first = True
        try:
            for attempt in retrying:
                with attempt:
                    if not first:
                        self.ledger.mark_copying(item.id)
                    resumed = item.attempts > 0 or not first
                    first = False
                    outcome, size, renamed = self._attempt(item, resumed=resumed)
        except VerificationMismatch as exc:
            self._finish(item, "mismatch", 0, False, f"mismatch: {exc}")
        except StorageError as exc:
            self._finish(item, "failed", 0, False, str(exc))
        except Exception as exc:
            self._finish(item, "failed", 0, False, f"{type(exc).__name__}: {exc}")
        else:
            self._finish(item, outcome, size, renamed, None)

    def _attempt(self, item: TodoObject, *, resumed: bool) -> tuple[str, int, bool]:
        source, target = self._pair()
        head = source.head_object(item.key)
        mapped = map_metadata(head.metadata, blob_name=item.key)
        renamed = mapped.ledger_record() is not None
        if resumed and self._adopt(item, head, mapped, source, target):
            return "adopted", head.size, renamed
        digest = self._copy(item, head, mapped, source, target)
        self._verify(target, item.target_name, head, mapped, digest)
        self.ledger.mark_verified(
            item.id,
            sha256=digest.hexdigest(),
            size=digest.size,
            content_type=head.content_type,
            renames=mapped.ledger_record(),
            copied=True,
        )
        return "copied", head.size, renamed

    def _copy(
        self,
        item: TodoObject,
        head: BlobInfo,
        mapped: MappedMetadata,
        source: StorageClient,
        target: StorageClient,
    ) -> Digest:
        chunks = source.iter_blob_chunks(item.key, self.options.chunk_size)
        kwargs = {"content_type": head.content_type, "metadata": mapped.metadata}
        if head.size <= self.options.buffer_limit:
            digest, parts = Digest(), []
            for chunk in chunks:
                digest.update(chunk)
                parts.append(chunk)
            target.upload_file(item.target_name, b"".join(parts), overwrite=True, **kwargs)  # type: ignore[arg-type]
        else:
            with ChunkReader(chunks) as reader:
                target.upload_file(item.target_name, reader, overwrite=True, **kwargs)  # type: ignore[arg-type]
                digest = reader.digest
        if digest.size != head.size:
            raise VerificationMismatch(
                f"{item.key!r}: read {digest.size} bytes from the source, HEAD said {head.size}"
            )
        return digest

    def _verify(
        self,
        target: StorageClient,
        name: str,
        head: BlobInfo,
        mapped: MappedMetadata,
        digest: Digest,
    ) -> None:
        info = target.head_object(name)
        problems = []
        if info.size != digest.size:
            problems.append(f"size {info.size} != {digest.size}")
        if head.content_type and info.content_type != head.content_type:
            problems.append(f"content type {info.content_type!r} != {head.content_type!r}")
        if dict(info.metadata) != mapped.metadata:
            problems.append("metadata differs")
        copied = digest_chunks(target.iter_blob_chunks(name, self.options.chunk_size))
        if copied.hexdigest() != digest.hexdigest() or copied.size != digest.size:
            problems.append("sha256 differs")
        if problems:
            raise VerificationMismatch(f"{name!r}: " + ", ".join(problems))

    def _adopt(
        self,
        item: TodoObject,
        head: BlobInfo,
        mapped: MappedMetadata,
        source: StorageClient,
        target: StorageClient,
    ) -> bool:
        """A copy left by an interrupted run: keep it if it verifies, without re-uploading."""
        try:
            info = target.head_object(item.target_name)
        except BlobNotFoundError:
            return False
        if info.size != head.size or dict(info.metadata) != mapped.metadata:
            return False
        if head.content_type and info.content_type != head.content_type:
            return False
        ours = digest_chunks(source.iter_blob_chunks(item.key, self.options.chunk_size))
        theirs = digest_chunks(target.iter_blob_chunks(item.target_name, self.options.chunk_size))
        if ours.hexdigest() != theirs.hexdigest() or ours.size != head.size:
            return False
        self.ledger.mark_verified(
            item.id,
            sha256=ours.hexdigest(),
            size=ours.size,
            content_type=head.content_type,
            renames=mapped.ledger_record(),
            copied=False,
        )
        return True

    # bookkeeping ---------------------------------------------------------------------
    def _finish(
        self, item: TodoObject, outcome: str, size: int, renamed: bool, error: str | None
    ) -> None:
        if error is not None:
            self.ledger.mark_failed(item.id, error)
        with self._lock:
            tally = self.tally
            if outcome == "copied":
                tally.copied += 1
                tally.copied_bytes += size
            elif outcome == "adopted":
                tally.adopted += 1
            elif outcome == "mismatch":
                tally.mismatches += 1
            else:
                tally.failed += 1
            tally.metadata_keys_renamed += renamed
            if error is not None and len(tally.failures) < 20:
                tally.failures.append({"key": item.key, "error": error})
            self._done += 1
            if self._done % self.options.progress_every == 0 or self._done == self._todo_total:
                self._say(self._progress())

    def _progress(self) -> str:
        r = self.tally
        return (
            f"{self._done}/{self._todo_total} objects: copied {r.copied} adopted {r.adopted} "
            f"failed {r.failed} mismatches {r.mismatches}; {r.copied_bytes / 1e6:.1f} MB"
        )

    def _summary(self) -> str:
        r = self.tally.to_dict()
        if r["dry_run"]:
            return (
                f"dry run, nothing copied: would copy {r['would_copy']} of {r['objects']} "
                f"objects ({r['would_copy_bytes'] / 1e6:.1f} MB), would rename metadata keys "
                f"of {r['would_rename_metadata_keys']}, would fail {r['would_fail']}, "
                f"skipped {r['skipped']} already verified, rows that would be rewritten "
                f"{r['url_rows_rewritten']['total']}"
            )
        return (
            f"copied {r['copied']} of {r['objects']} objects ({r['bytes'] / 1e6:.1f} MB listed), "
            f"skipped {r['skipped']}, adopted {r['adopted']}, failed {r['failed']}, "
            f"mismatches {r['mismatches']}, rows rewritten {r['url_rows_rewritten']['total']}, "
            f"{r['mb_per_s']} MB/s, {r['objects_per_s']} objects/s"
        )

    def _say(self, line: str) -> None:
        print(f"[migrate-objects] {line}", file=self.out, flush=True)


def _raise_unexpected(finished: set[Future[None]]) -> None:
    for future in finished:
        future.result()
