"""Missing materials supplied as files: stored in the original case's file through the document
service, linked to the request, listed for the receiving court on the transfer page, each read
audited; bad files refused with Chinese messages naming the file, and nothing half-written."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from enforcement.models import AuditEntry, CaseDocument, CaseEvent
from tests.transfers.conftest import designate
from transfers import services

pytestmark = pytest.mark.django_db


def pdf(name="执行依据原件.pdf", body=b"%PDF-1.4 original"):
    return SimpleUploadedFile(name, body, content_type="application/pdf")


@pytest.fixture
def material(people):
    transfer = designate(people)
    transfer = services.accept_transfer(people.sibling_head, transfer, judges=[people.receiving_judge.pk])
    return services.request_materials(people.sibling_head, transfer, description="执行依据原件、送达回证")


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def untouched(material, settings, documents_before: int) -> None:
    material.refresh_from_db()
    assert material.supplied_at is None and material.supply_note == "" and not material.documents.exists()
    assert CaseDocument.objects.count() == documents_before
    assert stored_files(settings) == []


def test_supplied_files_go_into_the_original_case_file_and_the_receiving_court_reads_them(
    client, people, material, settings
):
    transfer = material.transfer
    client.force_login(people.head)  # the original court's bureau head
    response = client.post(
        reverse("transfer_supply", args=[transfer.pk, material.pk]),
        {"note": "已扫描上传", "files": [pdf(), SimpleUploadedFile("送达回证.jpg", b"\xff\xd8jpeg", "image/jpeg")]},
    )
    assert response.status_code == 302
    material.refresh_from_db()
    documents = list(material.documents.order_by("pk"))
    assert [d.original_name for d in documents] == ["执行依据原件.pdf", "送达回证.jpg"]
    assert all(
        d.case_id == transfer.case_id and d.uploaded_by == people.head and len(d.sha256) == 64 for d in documents
    )
    assert material.supplied_by == people.head and material.supply_note == "已扫描上传"
    assert AuditEntry.objects.filter(action="document.add", object_id__in=[str(d.pk) for d in documents]).count() == 2
    supply = AuditEntry.objects.get(action="transfer.materials_supply")
    assert [d["id"] for d in supply.payload["documents"]] == [d.pk for d in documents]
    assert CaseEvent.objects.filter(
        case=transfer.case, kind="materials_supplied", message__contains="2 个文件"
    ).exists()

    # the receiving court sees them on the transfer page and reads each one, audited
    client.force_login(people.receiving_judge)
    html = client.get(reverse("transfer_detail", args=[transfer.pk])).content.decode()
    for document in documents:
        url = reverse("document_download", args=[transfer.case_id, document.pk])
        assert document.original_name in html and url in html
    url = reverse("document_download", args=[transfer.case_id, documents[0].pk])
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4 original"
    read = AuditEntry.objects.filter(action="case.file_read", actor=people.receiving_judge).latest("pk")
    assert read.case_id == transfer.case_id and read.object_id == str(documents[0].pk)
    assert read.payload == {"what": "document"}
    # somebody who may not read the file gets no link and no file
    client.force_login(people.outsider)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("病毒.exe", b"MZ", "application/octet-stream"), "病毒.exe：文件类型不允许"),
        (SimpleUploadedFile("空白.pdf", b"", "application/pdf"), "空白.pdf：文件为空"),
        (SimpleUploadedFile("巨大.pdf", b"%PDF" + b"0" * 2048, "application/pdf"), "巨大.pdf：文件大小不能超过 1 KB"),
    ],
)
def test_a_bad_file_refuses_the_whole_supply_and_keeps_what_was_typed(
    client, people, material, settings, upload, message
):
    settings.CASE_DOCUMENT_MAX_BYTES = 1024
    before = CaseDocument.objects.count()
    audit_before = AuditEntry.objects.count()
    client.force_login(people.head)
    response = client.post(
        reverse("transfer_supply", args=[material.transfer_id, material.pk]),
        {"note": "原件已扫描", "files": [pdf(body=b"%PDF ok"), upload]},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and 'value="原件已扫描"' in html
    untouched(material, settings, before)
    assert AuditEntry.objects.count() == audit_before


def test_the_service_checks_every_file_before_storing_any(people, material, settings):
    before = CaseDocument.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.supply_materials(
            people.head, material, note="", files=[pdf(), SimpleUploadedFile("a.zip", b"PK", "application/zip")]
        )
    assert exc.value.message_dict["note"] == ["请说明补充的材料"]
    assert exc.value.message_dict["files"] == [
        "a.zip：文件类型不允许，仅限：" + "、".join(settings.CASE_DOCUMENT_ALLOWED_EXTENSIONS)
    ]
    untouched(material, settings, before)
    with pytest.raises(ValidationError) as exc:
        services.supply_materials(people.head, material, note="太多", files=[pdf(f"{i}.pdf") for i in range(11)])
    assert exc.value.message_dict["files"] == ["一次最多上传 10 个文件"]
    untouched(material, settings, before)
    # the receiving court cannot supply for the original court
    with pytest.raises(PermissionDenied):
        services.supply_materials(people.sibling_head, material, note="x", files=[pdf()])
    untouched(material, settings, before)
    # a supply without files is still a supply (paper originals by post)
    services.supply_materials(people.head, material, note="原件已邮寄")
    material.refresh_from_db()
    assert material.supplied_at and not material.documents.exists()
