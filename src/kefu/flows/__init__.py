"""Work that spans domains, above them (after Netflix Dispatch's ``flows``): a domain never
imports another domain's services to make something happen there. ``intake``: a call is
recorded, corrected or imported → it is inspected."""
