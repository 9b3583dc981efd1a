from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from roughy.assets.tasks import removing
from roughy.auth import CurrentAccount
from roughy.errors import error_responses
from roughy.projects import service
from roughy.projects.schemas import ProjectCreate, ProjectOut, ProjectState, ProjectUpdate
from roughy.runtime import Runtime, get_runtime
from roughy.schemas import Page, PageParams, page_params, path_id

router = APIRouter(prefix="/projects", tags=["projects"])
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


@router.post(
    "", status_code=201, response_model=ProjectOut, responses=error_responses("validation_error")
)
def create_project(body: ProjectCreate, account: CurrentAccount, rt: RuntimeDep) -> ProjectOut:
    with rt.db.session() as session:
        return ProjectOut.model_validate(service.create(session, account, body.name))


@router.get("", response_model=Page[ProjectOut], responses=error_responses("validation_error"))
def list_projects(
    account: CurrentAccount,
    rt: RuntimeDep,
    page: Annotated[PageParams, Depends(page_params)],
    state: Annotated[ProjectState, Query(description="Which projects to list.")] = "active",
) -> Page[ProjectOut]:
    with rt.db.session() as session:
        rows, total = service.list_(session, account, state, page.limit, page.offset)
        items = [ProjectOut.model_validate(r) for r in rows]
    return Page.of(items, total, page)


@router.get("/{project_id}", response_model=ProjectOut, responses=error_responses("not_found"))
def get_project(project_id: str, account: CurrentAccount, rt: RuntimeDep) -> ProjectOut:
    with rt.db.session() as session:
        return ProjectOut.model_validate(
            service.get(session, account, path_id(project_id, "Project"))
        )


@router.patch(
    "/{project_id}",
    response_model=ProjectOut,
    responses=error_responses("not_found", "validation_error"),
)
def update_project(
    project_id: str, body: ProjectUpdate, account: CurrentAccount, rt: RuntimeDep
) -> ProjectOut:
    with rt.db.session() as session:
        project = service.update(
            session, account, path_id(project_id, "Project"), body.name, body.state
        )
        return ProjectOut.model_validate(project)


@router.delete(
    "/{project_id}",
    status_code=204,
    response_class=Response,
    responses=error_responses("not_found"),
)
def delete_project(project_id: str, account: CurrentAccount, rt: RuntimeDep) -> Response:
    with rt.db.session() as session:
        service.delete(
            session,
            account,
            path_id(project_id, "Project"),
            lambda asset_ids: removing(rt, session, asset_ids),
        )
    return Response(status_code=204)
