"""A small stand-in for SrvThreds, used to exercise stackbuild end to end.

`common` is shared by every service; each service is one module beside it so a
service image can carry only `common` plus its own file.
"""
