"""OpenAPI request examples for the webhooks, shaped as the Salesforce and HubSpot REST APIs return them."""

from __future__ import annotations

from typing import Any

SF = "/services/data/v60.0/sobjects"
EXAMPLES: dict[str, dict[str, Any]] = {
    "salesforce": {
        "contact": {"summary": "A Contact as GET /sobjects/Contact/{id} returns it", "value": {
            "attributes": {"type": "Contact", "url": f"{SF}/Contact/003D000000QV9n2IAD"},
            "Id": "003D000000QV9n2IAD", "AccountId": "001D000000INjVeIAL", "FirstName": "Edna",
            "LastName": "Frank", "Email": "efrank@genepoint", "Phone": "(650) 867-3450",
            "Title": "VP, Technology", "Department": "Technology", "OwnerId": "005D0000001KyEIIA0",
            "CreatedDate": "2013-09-05T18:45:08.000+0000"}},
        "query": {"summary": "A SOQL query result", "value": {"totalSize": 1, "done": True, "records": [{
            "attributes": {"type": "Opportunity", "url": f"{SF}/Opportunity/006D000000CrjWGIAZ"},
            "Id": "006D000000CrjWGIAZ", "Name": "GenePoint Standby Generator",
            "StageName": "Proposal/Price Quote", "Amount": 85000, "Probability": 75,
            "CloseDate": "2013-06-08", "OwnerId": "005D0000001KyEIIA0"}]}},
        "new_map": {"summary": "Trigger.newMap as Apex serialises it (each sObject scored)", "value": {
            "003D000000QV9n2IAD": {"attributes": {"type": "Contact"}, "Id": "003D000000QV9n2IAD",
                                   "FirstName": "Edna", "LastName": "Frank", "Email": "efrank@genepoint"}}},
        "merged": {"summary": "A contact merged away (not judged; ?index=true removes it from the index)",
                   "value": {"attributes": {"type": "Contact"}, "Id": "003D000000QV9n3IAD", "IsDeleted": True,
                             "MasterRecordId": "003D000000QV9n2IAD", "LastName": "Frank"}}},
    "hubspot": {
        "contact": {"summary": "A contact as GET /crm/v3/objects/contacts/{id} returns it", "value": {
            "id": "512",
            "properties": {"createdate": "2019-10-30T03:30:17.883Z", "email": "bcooper@biglytics.net",
                           "firstname": "Bryan", "hs_object_id": "512",
                           "lastmodifieddate": "2019-12-07T16:50:06.678Z", "lastname": "Cooper"},
            "createdAt": "2019-10-30T03:30:17.883Z", "updatedAt": "2019-12-07T16:50:06.678Z",
            "archived": False}},
        "deals": {"summary": "Deals as a batch (`inputs`)", "value": {"inputs": [{"properties": {
            "amount": "1500.00", "closedate": "2019-12-07T16:50:06.678Z",
            "dealname": "Custom data integrations", "dealstage": "presentationscheduled",
            "hubspot_owner_id": "910901", "pipeline": "default"}}]}},
        "events": {"summary": "An app's event notifications (property changes scored, others acknowledged)",
                   "value": [
            {"objectId": 1246965, "propertyName": "email", "propertyValue": "bcooper@biglytics",
             "changeSource": "CRM_UI", "eventId": 3816279340, "subscriptionId": 25, "portalId": 33,
             "appId": 1160452, "occurredAt": 1462216307945, "subscriptionType": "contact.propertyChange",
             "attemptNumber": 0},
            {"objectId": 1246978, "changeSource": "IMPORT", "eventId": 3816279480, "subscriptionId": 22,
             "portalId": 33, "appId": 1160452, "occurredAt": 1462216307945,
             "subscriptionType": "contact.creation", "attemptNumber": 0}]}},
    "generic": {
        "contact": {"summary": "One canonical record with its type", "value": {
            "type": "contact", "id": "003A1", "first_name": "Bob", "last_name": "Smith", "email": "bob@"}},
        "records": {"summary": "Several records", "value": {"records": [
            {"type": "account", "id": "001A1", "name": "Acme Corp", "website": "acme.com"},
            {"type": "lead", "id": "00QA1", "first_name": "Ana", "company": "Globex"}]}}},
}
