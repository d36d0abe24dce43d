"""Transfer pages that take files or act from the workbench: supplying missing materials (with
the files, into the original case's file) and acknowledging a notification to the court.

Thin views: they load through the policy, call one service and render; the rules live in
``transfers/services.py``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from enforcement.forms import apply_service_errors

from . import services
from .forms import SupplyForm
from .models import MaterialRequest
from .views import _detail_page, _require_ability, _visible_transfer


@login_required
@require_POST
def materials_supply(request, pk, material_id):
    """补充材料: the original court's bureau head; 400 keeps the note and puts the messages (a bad
    file, a missing note) next to the request's form; nothing is stored then."""
    material = MaterialRequest.objects.filter(pk=material_id, transfer_id=pk).first()
    if material is None:
        raise Http404(_("补充材料请求不存在"))
    transfer = _visible_transfer(request, pk)
    _require_ability(request.user, transfer, "can_supply")
    form = SupplyForm(request.POST, request.FILES, material_id=material.pk)
    if form.is_valid():
        data = form.cleaned_data
        try:
            material = services.supply_materials(
                request.user, material, note=data.get("note") or "", files=data.get("files") or []
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            count = material.documents.count()
            if count:
                messages.success(request, _("已补充材料，附 %(n)d 个文件") % {"n": count})
            else:
                messages.success(request, _("已记录补充材料"))
            return redirect("transfer_detail", pk=transfer.pk)
    return _detail_page(request, _visible_transfer(request, pk), forms={"supply": form}, status=400)


@login_required
@require_POST
def notification_acknowledge(request, pk):
    """确认通知: users of the notified court who may view the case; 404 for everybody else."""
    try:
        notification = services.acknowledge_notification(request.user, pk)
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    else:
        messages.success(request, _("已确认：%(number)s") % {"number": notification.case.number})
    return redirect("workbench")
