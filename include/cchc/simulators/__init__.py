"""HTTP simulators of the one-stop system, the national portal and I-Office.

Entities and paths (see `cchc.synthetic.entities`):
  dossiers            /onestop/api/v1/dossiers             key MaHoSo
  dossier-sync        /portal/api/v1/dossier-sync          key MaHoSo
  outgoing-documents  /ioffice/api/v1/outgoing-documents   key MaVanBan
"""
