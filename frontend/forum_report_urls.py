"""The forum compilation pages (frontend namespace), under /forum/<forum_pk>/sammanstallning/."""

from django.urls import path

from frontend import forum_report_views as views

urlpatterns = [
    path("forum/<int:forum_pk>/sammanstallning/", views.compilations, name="forum_compilations"),
    path("forum/<int:forum_pk>/sammanstallning/<int:pk>/", views.compilation_row, name="forum_compilation_row"),
    path("forum/<int:forum_pk>/sammanstallning/<int:pk>/sammanstallning.<str:kind>", views.compilation_file,
         name="forum_compilation_file"),
]
